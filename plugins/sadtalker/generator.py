"""SadTalker's OcclusionAwareSPADEGenerator: warp the source's 3-D features by the keypoint motion, decode."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from plugins.sadtalker.dense_motion import DenseMotionNetwork
from plugins.sadtalker.layers import DownBlock2d, ResBlock3d, SameBlock2d
from plugins.sadtalker.spade import SPADEDecoder


class OcclusionAwareSPADEGenerator(nn.Module):
    """`generator(source_image, kp_driving={"value"}, kp_source={"value"})` -> prediction, mask, occlusion."""

    def __init__(
        self,
        image_channel: int = 3,
        feature_channel: int = 32,
        num_kp: int = 15,
        block_expansion: int = 64,
        max_features: int = 512,
        num_down_blocks: int = 2,
        reshape_channel: int = 32,
        reshape_depth: int = 16,
        num_resblocks: int = 6,
        dense_motion_params: dict[str, int] | None = None,
    ):
        super().__init__()
        motion = dense_motion_params or {"block_expansion": 32, "max_features": 1024, "num_blocks": 5, "compress": 4}
        self.dense_motion_network = DenseMotionNetwork(
            num_kp=num_kp, feature_channel=feature_channel, reshape_depth=reshape_depth, **motion
        )
        self.first = SameBlock2d(image_channel, block_expansion)
        self.down_blocks = nn.ModuleList(
            DownBlock2d(min(max_features, block_expansion * 2**i), min(max_features, block_expansion * 2 ** (i + 1)))
            for i in range(num_down_blocks)
        )
        encoded = min(max_features, block_expansion * 2**num_down_blocks)
        self.second = nn.Conv2d(encoded, max_features, kernel_size=1)
        self.reshape_channel = reshape_channel
        self.reshape_depth = reshape_depth
        self.resblocks_3d = nn.Sequential()
        for i in range(num_resblocks):
            self.resblocks_3d.add_module(f"3dr{i}", ResBlock3d(reshape_channel))
        decoded = block_expansion * 2**num_down_blocks
        self.third = SameBlock2d(max_features, decoded, lrelu=True)
        self.fourth = nn.Conv2d(decoded, decoded, kernel_size=1)
        self.decoder = SPADEDecoder()

    def source_features(self, source_image: torch.Tensor) -> torch.Tensor:
        """The source's feature volume [B, 32, 16, 64, 64]; it depends on the image only."""
        out = self.first(source_image)
        for block in self.down_blocks:
            out = block(out)
        out = self.second(out)
        bs, _, h, w = out.shape
        return self.resblocks_3d(out.view(bs, self.reshape_channel, self.reshape_depth, h, w))

    def forward(
        self,
        source_image: torch.Tensor,
        kp_driving: dict[str, torch.Tensor],
        kp_source: dict[str, torch.Tensor],
    ) -> dict[str, torch.Tensor]:
        return self.render(self.source_features(source_image), kp_driving, kp_source)

    def render(
        self, feature_3d: torch.Tensor, kp_driving: dict[str, torch.Tensor], kp_source: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        """The frame from cached `source_features`: the same numbers as `forward`, without re-encoding."""
        motion = self.dense_motion_network(feature=feature_3d, kp_driving=kp_driving, kp_source=kp_source)
        out = self.warp(feature_3d, motion["deformation"])
        bs, c, d, h, w = out.shape
        out = self.fourth(self.third(out.view(bs, c * d, h, w)))
        occlusion_map = motion["occlusion_map"]
        if out.shape[2:] != occlusion_map.shape[2:]:
            occlusion_map = F.interpolate(occlusion_map, size=out.shape[2:], mode="bilinear")
        return {
            "mask": motion["mask"],
            "occlusion_map": motion["occlusion_map"],
            "prediction": self.decoder(out * occlusion_map),
        }

    @staticmethod
    def warp(volume: torch.Tensor, deformation: torch.Tensor) -> torch.Tensor:
        """Trilinear sampling of `volume` at `deformation` [B, d, h, w, 3], resized to the volume first."""
        if deformation.shape[1:4] != volume.shape[2:]:
            resized = F.interpolate(deformation.permute(0, 4, 1, 2, 3), size=volume.shape[2:], mode="trilinear")
            deformation = resized.permute(0, 2, 3, 4, 1)
        return F.grid_sample(volume, deformation, align_corners=False)
