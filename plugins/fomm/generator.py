"""FOMM's occlusion-aware generator: encodes the source, warps its features by the dense motion, decodes."""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from plugins.fomm.dense_motion import DenseMotionNetwork
from plugins.fomm.keypoints import Keypoints
from plugins.fomm.layers import ConvBlock, ResBlock


def warp(image: torch.Tensor, deformation: torch.Tensor) -> torch.Tensor:
    """Backward-warp image [B, C, H, W] by a flow [B, h, w, 2], resizing the flow bilinearly if h, w differ."""
    height, width = image.shape[2:]
    if deformation.shape[1:3] != (height, width):
        flow = deformation.permute(0, 3, 1, 2)
        flow = F.interpolate(flow, size=(height, width), mode="bilinear", align_corners=False)
        deformation = flow.permute(0, 2, 3, 1)
    return F.grid_sample(image, deformation, align_corners=False)


class OcclusionAwareGenerator(nn.Module):
    """The official OcclusionAwareGenerator (with dense motion and occlusion), vox-256 settings by default."""

    def __init__(
        self,
        num_kp: int = 10,
        num_channels: int = 3,
        block_expansion: int = 64,
        max_features: int = 512,
        num_down_blocks: int = 2,
        num_bottleneck_blocks: int = 6,
    ) -> None:
        super().__init__()

        def width(level: int) -> int:
            return min(max_features, block_expansion * 2**level)

        self.dense_motion_network = DenseMotionNetwork(num_kp=num_kp, num_channels=num_channels)
        self.first = ConvBlock(num_channels, block_expansion, "same", kernel_size=7, padding=3)
        self.down_blocks = nn.ModuleList(
            ConvBlock(width(level), width(level + 1), "down") for level in range(num_down_blocks)
        )
        self.up_blocks = nn.ModuleList(
            ConvBlock(width(level + 1), width(level), "up") for level in reversed(range(num_down_blocks))
        )
        bottom = width(num_down_blocks)
        self.bottleneck = nn.Sequential(OrderedDict((f"r{i}", ResBlock(bottom)) for i in range(num_bottleneck_blocks)))
        self.final = nn.Conv2d(block_expansion, num_channels, kernel_size=7, padding=3)

    def forward(
        self, source_image: torch.Tensor, kp_driving: Keypoints, kp_source: Keypoints
    ) -> dict[str, torch.Tensor]:
        """-> "mask", "sparse_deformed", "occlusion_map", "deformed" (the source warped at full size) and
        "prediction" [B, C, H, W] in (0, 1), as the official output dict."""
        features = self.first(source_image)
        for block in self.down_blocks:
            features = block(features)

        motion = self.dense_motion_network(source_image, kp_driving=kp_driving, kp_source=kp_source)
        deformation = motion["deformation"]
        features = warp(features, deformation)
        occlusion_map = motion["occlusion_map"]
        if occlusion_map.shape[2:] != features.shape[2:]:
            occlusion_map = F.interpolate(occlusion_map, size=features.shape[2:], mode="bilinear", align_corners=False)
        features = features * occlusion_map

        out = self.bottleneck(features)
        for block in self.up_blocks:
            out = block(out)
        return {
            "mask": motion["mask"],
            "sparse_deformed": motion["sparse_deformed"],
            "occlusion_map": motion["occlusion_map"],
            "deformed": warp(source_image, deformation),
            "prediction": torch.sigmoid(self.final(out)),
        }
