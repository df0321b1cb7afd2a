"""Building blocks of SadTalker's face renderer (the face-vid2vid blocks of its `modules/util.py`).

Parameter names follow the official modules so official state dicts load strictly. The official
`SynchronizedBatchNorm*` layers are plain batch norms in eval mode, so `nn.BatchNorm*` stands in.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def coordinate_grid(d: int, h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    """A [d, h, w, 3] grid of (x, y, z) in [-1, 1], in `like`'s dtype and device."""
    axes = []
    for size in (w, h, d):
        # Same op order as the official grid (x / (n - 1), * 2, - 1) so the values match bit for bit.
        axis = torch.arange(size, device=like.device).to(like.dtype)
        axes.append(2 * (axis / (size - 1)) - 1)
    x, y, z = axes
    xx = x.view(1, 1, -1).repeat(d, h, 1)
    yy = y.view(1, -1, 1).repeat(d, 1, w)
    zz = z.view(-1, 1, 1).repeat(1, h, w)
    return torch.stack([xx, yy, zz], dim=3)


def kp2gaussian(value: torch.Tensor, spatial_size: tuple[int, int, int], kp_variance: float) -> torch.Tensor:
    """Gaussian blobs [B, K, d, h, w] around keypoints `value` [B, K, 3]."""
    grid = coordinate_grid(*spatial_size, like=value)
    lead = value.shape[:-1]
    mean = value.view(*lead, 1, 1, 1, 3)
    diff = grid.view((1,) * len(lead) + grid.shape) - mean
    return torch.exp(-0.5 * (diff**2).sum(-1) / kp_variance)


class SameBlock2d(nn.Module):
    """Conv, batch norm and ReLU (or LeakyReLU 0.01) at constant resolution."""

    def __init__(self, in_features: int, out_features: int, lrelu: bool = False):
        super().__init__()
        self.conv = nn.Conv2d(in_features, out_features, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm2d(out_features, affine=True)
        self.lrelu = lrelu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.norm(self.conv(x))
        return F.leaky_relu(out) if self.lrelu else F.relu(out)


class DownBlock2d(nn.Module):
    """Conv, batch norm, ReLU, then 2x2 average pooling."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.conv = nn.Conv2d(in_features, out_features, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm2d(out_features, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(F.relu(self.norm(self.conv(x))), kernel_size=(2, 2))


class DownBlock3d(nn.Module):
    """3-D conv, batch norm, ReLU, then average pooling over height and width only."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.conv = nn.Conv3d(in_features, out_features, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm3d(out_features, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool3d(F.relu(self.norm(self.conv(x))), kernel_size=(1, 2, 2))


class UpBlock3d(nn.Module):
    """Nearest upsampling of height and width by 2, then 3-D conv, batch norm and ReLU."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.conv = nn.Conv3d(in_features, out_features, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm3d(out_features, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.interpolate(x, scale_factor=(1, 2, 2))
        return F.relu(self.norm(self.conv(out)))


class ResBlock3d(nn.Module):
    """Pre-activation 3-D residual block (norm, ReLU, conv, twice, plus the input)."""

    def __init__(self, features: int):
        super().__init__()
        self.conv1 = nn.Conv3d(features, features, kernel_size=3, padding=1)
        self.conv2 = nn.Conv3d(features, features, kernel_size=3, padding=1)
        self.norm1 = nn.BatchNorm3d(features, affine=True)
        self.norm2 = nn.BatchNorm3d(features, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.relu(self.norm1(x)))
        out = self.conv2(F.relu(self.norm2(out)))
        return out + x


class AntiAliasInterpolation2d(nn.Module):
    """Gaussian blur then strided subsampling (band-limited downscaling by `scale`)."""

    weight: torch.Tensor

    def __init__(self, channels: int, scale: float):
        super().__init__()
        sigma = (1 / scale - 1) / 2
        size = 2 * round(sigma * 4) + 1
        self.ka = size // 2
        self.kb = self.ka - 1 if size % 2 == 0 else self.ka
        # The checkpoint stores this kernel; building it here only gives fresh modules the right shape.
        ramp = torch.arange(size, dtype=torch.float32)
        bell = torch.exp(-((ramp - (size - 1) / 2) ** 2) / (2 * sigma**2))
        kernel = bell.view(-1, 1) * bell.view(1, -1)
        kernel = (kernel / kernel.sum()).view(1, 1, size, size).repeat(channels, 1, 1, 1)
        self.register_buffer("weight", kernel)
        self.groups = channels
        self.scale = scale
        self.step = int(1 / scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale == 1.0:
            return x
        out = F.pad(x, (self.ka, self.kb, self.ka, self.kb))
        out = F.conv2d(out, weight=self.weight, groups=self.groups)
        return out[:, :, :: self.step, :: self.step]
