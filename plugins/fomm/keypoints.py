"""FOMM's keypoint detector: 10 keypoints with a 2x2 local jacobian each, from a 256x256 face."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from plugins.fomm.layers import AntiAliasDownsample, Hourglass, coordinate_grid

Keypoints = dict[str, torch.Tensor]


class KeypointDetector(nn.Module):
    """The official KPDetector with jacobians (one jacobian map per keypoint), vox-256 settings by default.

    Keypoints are the soft-argmax of per-keypoint heatmaps on a quarter-resolution copy of the image;
    each jacobian is the heatmap-weighted mean of a 4-channel map.
    """

    def __init__(
        self,
        num_kp: int = 10,
        num_channels: int = 3,
        block_expansion: int = 32,
        max_features: int = 1024,
        num_blocks: int = 5,
        temperature: float = 0.1,
        scale_factor: float = 0.25,
    ) -> None:
        super().__init__()
        self.num_kp = num_kp
        self.temperature = temperature
        self.predictor = Hourglass(block_expansion, num_channels, num_blocks, max_features)
        # No padding: the heatmaps are 6 pixels smaller than the features (58x58 for a 256 input).
        self.kp = nn.Conv2d(self.predictor.out_features, num_kp, kernel_size=7)
        self.jacobian = nn.Conv2d(self.predictor.out_features, 4 * num_kp, kernel_size=7)
        with torch.no_grad():
            # The official start point (identity jacobians); a checkpoint overwrites it.
            self.jacobian.weight.zero_()
            self.jacobian.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 1.0] * num_kp))
        self.down = AntiAliasDownsample(num_channels, scale_factor) if scale_factor != 1 else nn.Identity()

    def forward(self, x: torch.Tensor) -> Keypoints:
        """x [B, C, H, W] in [0, 1] -> {"value": [B, K, 2] (x, y) in [-1, 1], "jacobian": [B, K, 2, 2]}."""
        features = self.predictor(self.down(x))
        logits = self.kp(features)
        batch, num_kp, height, width = logits.shape
        heatmap = F.softmax(logits.view(batch, num_kp, -1) / self.temperature, dim=2)
        grid = coordinate_grid(height, width, logits).view(1, 1, height * width, 2)
        value = (heatmap.unsqueeze(-1) * grid).sum(dim=2)
        jacobian_map = self.jacobian(features).view(batch, num_kp, 4, height * width)
        jacobian = (heatmap.unsqueeze(2) * jacobian_map).sum(dim=-1)
        return {"value": value, "jacobian": jacobian.view(batch, num_kp, 2, 2)}
