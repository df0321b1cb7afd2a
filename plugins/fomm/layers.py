"""Building blocks shared by FOMM's keypoint detector and generator.

Attribute names (`conv`, `norm`, `encoder.down_blocks`, ...) are fixed by the official checkpoint keys;
the official SynchronizedBatchNorm2d is a plain BatchNorm2d (eps 1e-5) once in eval mode.
"""

from __future__ import annotations

from typing import Literal, cast

import torch
import torch.nn.functional as F
from torch import nn

Resample = Literal["down", "up", "same"]


def coordinate_grid(height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """A [height, width, 2] grid of (x, y) in [-1, 1], pixel centres at the ends (FOMM's convention)."""
    x = torch.arange(width, dtype=like.dtype, device=like.device)
    y = torch.arange(height, dtype=like.dtype, device=like.device)
    # Same arithmetic as the official make_coordinate_grid, so the grids agree to the last bit.
    x = 2 * (x / (width - 1)) - 1
    y = 2 * (y / (height - 1)) - 1
    return torch.stack([x.view(1, width).expand(height, width), y.view(height, 1).expand(height, width)], dim=-1)


class ConvBlock(nn.Module):
    """Conv + batch norm + ReLU, optionally preceded by 2x nearest upsampling or followed by 2x2 average pooling.

    Covers the official SameBlock2d ("same"), DownBlock2d ("down") and UpBlock2d ("up").
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        resample: Resample = "same",
        kernel_size: int = 3,
        padding: int = 1,
    ) -> None:
        super().__init__()
        self.resample = resample
        self.conv = nn.Conv2d(in_features, out_features, kernel_size=kernel_size, padding=padding)
        self.norm = nn.BatchNorm2d(out_features, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.resample == "up":
            x = F.interpolate(x, scale_factor=2)  # nearest, as the official UpBlock2d
        out = F.relu(self.norm(self.conv(x)))
        if self.resample == "down":
            out = F.avg_pool2d(out, kernel_size=2)
        return out


class ResBlock(nn.Module):
    """Pre-activation residual block (norm, ReLU, conv, twice) that keeps the resolution."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(features, features, kernel_size=3, padding=1)
        self.norm1 = nn.BatchNorm2d(features, affine=True)
        self.norm2 = nn.BatchNorm2d(features, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.conv1(F.relu(self.norm1(x)))
        out = self.conv2(F.relu(self.norm2(out)))
        return out + x


class Hourglass(nn.Module):
    """U-Net: `num_blocks` down blocks, as many up blocks, each up output concatenated with its skip.

    The output has `block_expansion + in_features` channels at the input's resolution.
    """

    def __init__(self, block_expansion: int, in_features: int, num_blocks: int, max_features: int) -> None:
        super().__init__()

        def width(level: int) -> int:
            return min(max_features, block_expansion * 2**level)

        down = [
            ConvBlock(in_features if level == 0 else width(level), width(level + 1), "down")
            for level in range(num_blocks)
        ]
        # The deepest up block sees only the bottom features; the others also get the skip of their level.
        up = [
            ConvBlock((1 if level == num_blocks - 1 else 2) * width(level + 1), width(level), "up")
            for level in reversed(range(num_blocks))
        ]
        self.encoder = nn.ModuleDict({"down_blocks": nn.ModuleList(down)})
        self.decoder = nn.ModuleDict({"up_blocks": nn.ModuleList(up)})
        self.out_features = block_expansion + in_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [x]
        for block in cast(nn.ModuleList, self.encoder["down_blocks"]):
            skips.append(block(skips[-1]))
        out = skips.pop()
        for block in cast(nn.ModuleList, self.decoder["up_blocks"]):
            out = torch.cat([block(out), skips.pop()], dim=1)
        return out


class AntiAliasDownsample(nn.Module):
    """Gaussian blur then subsampling by 1/scale (the official AntiAliasInterpolation2d, scale < 1)."""

    weight: torch.Tensor

    def __init__(self, channels: int, scale: float) -> None:
        super().__init__()
        sigma = (1 / scale - 1) / 2
        size = 2 * round(sigma * 4) + 1  # always odd, so the padding is symmetric
        self.pad = size // 2
        self.stride = int(1 / scale)
        taps = torch.exp(-((torch.arange(size, dtype=torch.float32) - (size - 1) / 2) ** 2) / (2 * sigma**2))
        kernel = taps[:, None] * taps[None, :]
        kernel = kernel / kernel.sum()
        # A depthwise kernel per channel; the checkpoint stores it, so it is a persistent buffer.
        self.register_buffer("weight", kernel.expand(channels, 1, size, size).contiguous())
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = F.pad(x, (self.pad,) * 4)
        # A strided conv computes exactly the samples the official full conv + [::stride] slicing keeps.
        return F.conv2d(padded, self.weight, stride=self.stride, groups=self.channels)
