"""SadTalker's DenseMotionNetwork: a 3-D warp field and an occlusion map from two keypoint sets."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from plugins.sadtalker.layers import DownBlock3d, UpBlock3d, coordinate_grid, kp2gaussian


class Encoder(nn.Module):
    """Hourglass encoder: 3-D down blocks, every intermediate kept for the skips."""

    def __init__(self, block_expansion: int, in_features: int, num_blocks: int, max_features: int):
        super().__init__()
        self.down_blocks = nn.ModuleList(
            DownBlock3d(
                in_features if i == 0 else min(max_features, block_expansion * 2**i),
                min(max_features, block_expansion * 2 ** (i + 1)),
            )
            for i in range(num_blocks)
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = [x]
        for block in self.down_blocks:
            outs.append(block(outs[-1]))
        return outs


class Decoder(nn.Module):
    """Hourglass decoder: up blocks concatenated with the encoder's skips, then conv, norm, ReLU."""

    def __init__(self, block_expansion: int, in_features: int, num_blocks: int, max_features: int):
        super().__init__()
        blocks = []
        for i in reversed(range(num_blocks)):
            fin = (1 if i == num_blocks - 1 else 2) * min(max_features, block_expansion * 2 ** (i + 1))
            blocks.append(UpBlock3d(fin, min(max_features, block_expansion * 2**i)))
        self.up_blocks = nn.ModuleList(blocks)
        self.out_filters = block_expansion + in_features
        self.conv = nn.Conv3d(self.out_filters, self.out_filters, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm3d(self.out_filters, affine=True)

    def forward(self, skips: list[torch.Tensor]) -> torch.Tensor:
        skips = list(skips)
        out = skips.pop()
        for block in self.up_blocks:
            out = torch.cat([block(out), skips.pop()], dim=1)
        return F.relu(self.norm(self.conv(out)))


class Hourglass(nn.Module):
    """U-Net of 3-D blocks; its output has `block_expansion + in_features` channels."""

    def __init__(self, block_expansion: int, in_features: int, num_blocks: int, max_features: int):
        super().__init__()
        self.encoder = Encoder(block_expansion, in_features, num_blocks, max_features)
        self.decoder = Decoder(block_expansion, in_features, num_blocks, max_features)
        self.out_filters = self.decoder.out_filters

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class DenseMotionNetwork(nn.Module):
    """Per-keypoint sparse motions blended by a predicted mask; plus an occlusion map."""

    def __init__(
        self,
        block_expansion: int = 32,
        num_blocks: int = 5,
        max_features: int = 1024,
        num_kp: int = 15,
        feature_channel: int = 32,
        reshape_depth: int = 16,
        compress: int = 4,
    ):
        super().__init__()
        self.hourglass = Hourglass(block_expansion, (num_kp + 1) * (compress + 1), num_blocks, max_features)
        self.mask = nn.Conv3d(self.hourglass.out_filters, num_kp + 1, kernel_size=7, padding=3)
        self.compress = nn.Conv3d(feature_channel, compress, kernel_size=1)
        self.norm = nn.BatchNorm3d(compress, affine=True)
        self.occlusion = nn.Conv2d(self.hourglass.out_filters * reshape_depth, 1, kernel_size=7, padding=3)
        self.num_kp = num_kp

    def sparse_motions(self, feature: torch.Tensor, kp_driving: torch.Tensor, kp_source: torch.Tensor) -> torch.Tensor:
        """[B, K+1, d, h, w, 3]: the identity (background) then, per keypoint, driving -> source."""
        bs, _, d, h, w = feature.shape
        identity = coordinate_grid(d, h, w, like=kp_source).view(1, 1, d, h, w, 3)
        shifted = identity - kp_driving.view(bs, self.num_kp, 1, 1, 1, 3)
        driving_to_source = shifted + kp_source.view(bs, self.num_kp, 1, 1, 1, 3)
        return torch.cat([identity.repeat(bs, 1, 1, 1, 1, 1), driving_to_source], dim=1)

    def deformed_features(self, feature: torch.Tensor, motions: torch.Tensor) -> torch.Tensor:
        """[B, K+1, c, d, h, w]: the feature volume warped by each sparse motion."""
        bs, c, d, h, w = feature.shape
        k = self.num_kp + 1
        repeated = feature.unsqueeze(1).expand(bs, k, c, d, h, w).reshape(bs * k, c, d, h, w)
        warped = F.grid_sample(repeated, motions.reshape(bs * k, d, h, w, 3), align_corners=False)
        return warped.view(bs, k, -1, d, h, w)

    def forward(
        self, feature: torch.Tensor, kp_driving: dict[str, torch.Tensor], kp_source: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        bs, _, d, h, w = feature.shape
        feature = F.relu(self.norm(self.compress(feature)))
        motions = self.sparse_motions(feature, kp_driving["value"], kp_source["value"])
        deformed = self.deformed_features(feature, motions)

        size = (d, h, w)
        heatmap = kp2gaussian(kp_driving["value"], size, 0.01) - kp2gaussian(kp_source["value"], size, 0.01)
        heatmap = torch.cat([heatmap.new_zeros(bs, 1, d, h, w), heatmap], dim=1).unsqueeze(2)
        prediction = self.hourglass(torch.cat([heatmap, deformed], dim=2).view(bs, -1, d, h, w))

        mask = F.softmax(self.mask(prediction), dim=1)
        out = {"mask": mask}
        # The official code drops near-zero weights before blending the motions.
        weights = mask.unsqueeze(2)
        weights = torch.where(weights < 1e-3, torch.zeros_like(weights), weights)
        deformation = (motions.permute(0, 1, 5, 2, 3, 4) * weights).sum(dim=1)
        out["deformation"] = deformation.permute(0, 2, 3, 4, 1)
        out["occlusion_map"] = torch.sigmoid(self.occlusion(prediction.view(bs, -1, h, w)))
        return out
