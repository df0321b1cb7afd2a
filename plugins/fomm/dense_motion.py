"""FOMM's dense motion network: turns keypoint motion into a dense backward flow and an occlusion map.

Each keypoint (plus a static background) proposes a local affine warp of the source; an hourglass sees
the warped sources and keypoint heatmaps and predicts how to blend the warps per pixel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from plugins.fomm.keypoints import Keypoints
from plugins.fomm.layers import AntiAliasDownsample, Hourglass, coordinate_grid


def keypoint_heatmaps(value: torch.Tensor, grid: torch.Tensor, variance: float) -> torch.Tensor:
    """Isotropic Gaussians [B, K, H, W] (peak 1) at keypoints `value` [B, K, 2] on `grid` [H, W, 2]."""
    offset = grid[None, None] - value[:, :, None, None, :]
    return torch.exp(-0.5 * (offset**2).sum(-1) / variance)


def sparse_motions(grid: torch.Tensor, kp_driving: Keypoints, kp_source: Keypoints) -> torch.Tensor:
    """Backward flows [B, K+1, H, W, 2] (driving -> source coordinates): the identity, then one per keypoint.

    Near keypoint k a driving point z maps to kp_s + J_s J_d^-1 (z - kp_d) (eq. 4 of the paper).
    """
    batch, num_kp, _ = kp_driving["value"].shape
    height, width, _ = grid.shape
    relative = grid[None, None] - kp_driving["value"][:, :, None, None, :]
    jacobian = torch.matmul(kp_source["jacobian"], torch.inverse(kp_driving["jacobian"]))
    warped = torch.einsum("bkij,bkhwj->bkhwi", jacobian, relative)
    to_source = warped + kp_source["value"][:, :, None, None, :]
    identity = grid[None, None].expand(batch, 1, height, width, 2)
    return torch.cat([identity, to_source], dim=1)


def warp_per_motion(image: torch.Tensor, motions: torch.Tensor) -> torch.Tensor:
    """The image [B, C, H, W] warped by each flow of `motions` [B, M, H, W, 2] -> [B, M, C, H, W]."""
    batch, channels, height, width = image.shape
    count = motions.shape[1]
    repeated = image.unsqueeze(1).expand(batch, count, channels, height, width)
    warped = F.grid_sample(
        repeated.reshape(batch * count, channels, height, width),
        motions.reshape(batch * count, height, width, 2),
        align_corners=False,
    )
    return warped.view(batch, count, channels, height, width)


class DenseMotionNetwork(nn.Module):
    """The official DenseMotionNetwork with an occlusion head, vox-256 settings by default."""

    def __init__(
        self,
        num_kp: int = 10,
        num_channels: int = 3,
        block_expansion: int = 64,
        max_features: int = 1024,
        num_blocks: int = 5,
        scale_factor: float = 0.25,
        kp_variance: float = 0.01,
    ) -> None:
        super().__init__()
        self.kp_variance = kp_variance
        # Per motion (background + keypoints): a heatmap channel and the warped source's channels.
        in_features = (num_kp + 1) * (num_channels + 1)
        self.hourglass = Hourglass(block_expansion, in_features, num_blocks, max_features)
        self.mask = nn.Conv2d(self.hourglass.out_features, num_kp + 1, kernel_size=7, padding=3)
        self.occlusion = nn.Conv2d(self.hourglass.out_features, 1, kernel_size=7, padding=3)
        self.down = AntiAliasDownsample(num_channels, scale_factor) if scale_factor != 1 else nn.Identity()

    def forward(
        self, source_image: torch.Tensor, kp_driving: Keypoints, kp_source: Keypoints
    ) -> dict[str, torch.Tensor]:
        """-> "sparse_deformed" [B, K+1, C, h, w], "mask" [B, K+1, h, w], "deformation" [B, h, w, 2],
        "occlusion_map" [B, 1, h, w], at 1/4 of the source resolution."""
        source = self.down(source_image)
        batch, _, height, width = source.shape
        grid = coordinate_grid(height, width, source)

        heatmaps = keypoint_heatmaps(kp_driving["value"], grid, self.kp_variance) - keypoint_heatmaps(
            kp_source["value"], grid, self.kp_variance
        )
        background = heatmaps.new_zeros(batch, 1, height, width)
        heatmaps = torch.cat([background, heatmaps], dim=1)

        motions = sparse_motions(grid, kp_driving, kp_source)
        sparse_deformed = warp_per_motion(source, motions)

        features = torch.cat([heatmaps.unsqueeze(2), sparse_deformed], dim=2).view(batch, -1, height, width)
        features = self.hourglass(features)

        mask = F.softmax(self.mask(features), dim=1)
        deformation = (motions * mask.unsqueeze(-1)).sum(dim=1)
        return {
            "sparse_deformed": sparse_deformed,
            "mask": mask,
            "deformation": deformation,
            "occlusion_map": torch.sigmoid(self.occlusion(features)),
        }
