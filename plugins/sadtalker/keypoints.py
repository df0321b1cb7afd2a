"""SadTalker's canonical keypoint detector (`KPDetector`, 15 3-D keypoints, no jacobians)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from plugins.sadtalker.layers import AntiAliasInterpolation2d, DownBlock2d, UpBlock3d, coordinate_grid


class KPHourglass(nn.Module):
    """2-D encoder, a 1x1 conv reshaped into a 3-D volume, then a 3-D decoder."""

    def __init__(
        self,
        block_expansion: int = 32,
        in_features: int = 3,
        reshape_features: int = 16384,
        reshape_depth: int = 16,
        num_blocks: int = 5,
        max_features: int = 1024,
    ):
        super().__init__()
        self.down_blocks = nn.Sequential()
        for i in range(num_blocks):
            fin = in_features if i == 0 else min(max_features, block_expansion * 2**i)
            self.down_blocks.add_module(f"down{i}", DownBlock2d(fin, min(max_features, block_expansion * 2 ** (i + 1))))
        self.conv = nn.Conv2d(min(max_features, block_expansion * 2**num_blocks), reshape_features, kernel_size=1)
        self.up_blocks = nn.Sequential()
        for i in range(num_blocks):
            fin = min(max_features, block_expansion * 2 ** (num_blocks - i))
            fout = min(max_features, block_expansion * 2 ** (num_blocks - i - 1))
            self.up_blocks.add_module(f"up{i}", UpBlock3d(fin, fout))
        self.reshape_depth = reshape_depth
        self.out_filters = fout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(self.down_blocks(x))
        bs, c, h, w = out.shape
        out = out.view(bs, c // self.reshape_depth, self.reshape_depth, h, w)
        return self.up_blocks(out)


class KPDetector(nn.Module):
    """Image [B, 3, 256, 256] in [0, 1] -> {"value": [B, 15, 3]}: soft-argmax of 3-D heatmaps."""

    def __init__(
        self,
        block_expansion: int = 32,
        num_kp: int = 15,
        image_channel: int = 3,
        max_features: int = 1024,
        reshape_channel: int = 16384,
        reshape_depth: int = 16,
        num_blocks: int = 5,
        temperature: float = 0.1,
        scale_factor: float = 0.25,
    ):
        super().__init__()
        self.predictor = KPHourglass(
            block_expansion, image_channel, reshape_channel, reshape_depth, num_blocks, max_features
        )
        self.kp = nn.Conv3d(self.predictor.out_filters, num_kp, kernel_size=3, padding=1)
        self.temperature = temperature
        self.scale_factor = scale_factor
        if scale_factor != 1:
            self.down = AntiAliasInterpolation2d(image_channel, scale_factor)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.scale_factor != 1:
            x = self.down(x)
        prediction = self.kp(self.predictor(x))
        shape = prediction.shape
        heatmap = F.softmax(prediction.view(shape[0], shape[1], -1) / self.temperature, dim=2).view(*shape)
        grid = coordinate_grid(shape[2], shape[3], shape[4], like=heatmap)
        value = (heatmap.unsqueeze(-1) * grid.unsqueeze(0).unsqueeze(0)).sum(dim=(2, 3, 4))
        return {"value": value}
