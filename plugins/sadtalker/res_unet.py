"""The small residual U-Net inside SadTalker's pose CVAE (it refines a [B, 1, 32, 6] pose sequence)."""

from __future__ import annotations

import torch
from torch import nn


class ResidualConv(nn.Module):
    """Pre-activation conv pair (`conv_block`) plus a conv + norm skip (`conv_skip`)."""

    def __init__(self, input_dim: int, output_dim: int, stride: int | tuple[int, int], padding: int):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.BatchNorm2d(input_dim),
            nn.ReLU(),
            nn.Conv2d(input_dim, output_dim, kernel_size=3, stride=stride, padding=padding),
            nn.BatchNorm2d(output_dim),
            nn.ReLU(),
            nn.Conv2d(output_dim, output_dim, kernel_size=3, padding=1),
        )
        self.conv_skip = nn.Sequential(
            nn.Conv2d(input_dim, output_dim, kernel_size=3, stride=stride, padding=1),
            nn.BatchNorm2d(output_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_block(x) + self.conv_skip(x)


class Upsample(nn.Module):
    """A transposed conv (key `upsample`) that doubles the time axis."""

    def __init__(self, input_dim: int, output_dim: int, kernel: tuple[int, int], stride: tuple[int, int]):
        super().__init__()
        self.upsample = nn.ConvTranspose2d(input_dim, output_dim, kernel_size=kernel, stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.upsample(x)


class ResUnet(nn.Module):
    """[B, 1, L, W] -> [B, 1, L, W] in (0, 1): three halvings of L, three doublings with skips, Sigmoid."""

    def __init__(self, channel: int = 1, filters: tuple[int, int, int, int] = (32, 64, 128, 256)):
        super().__init__()
        f0, f1, f2, f3 = filters
        self.input_layer = nn.Sequential(
            nn.Conv2d(channel, f0, kernel_size=3, padding=1),
            nn.BatchNorm2d(f0),
            nn.ReLU(),
            nn.Conv2d(f0, f0, kernel_size=3, padding=1),
        )
        self.input_skip = nn.Sequential(nn.Conv2d(channel, f0, kernel_size=3, padding=1))
        self.residual_conv_1 = ResidualConv(f0, f1, stride=(2, 1), padding=1)
        self.residual_conv_2 = ResidualConv(f1, f2, stride=(2, 1), padding=1)
        self.bridge = ResidualConv(f2, f3, stride=(2, 1), padding=1)
        self.upsample_1 = Upsample(f3, f3, kernel=(2, 1), stride=(2, 1))
        self.up_residual_conv1 = ResidualConv(f3 + f2, f2, stride=1, padding=1)
        self.upsample_2 = Upsample(f2, f2, kernel=(2, 1), stride=(2, 1))
        self.up_residual_conv2 = ResidualConv(f2 + f1, f1, stride=1, padding=1)
        self.upsample_3 = Upsample(f1, f1, kernel=(2, 1), stride=(2, 1))
        self.up_residual_conv3 = ResidualConv(f1 + f0, f0, stride=1, padding=1)
        self.output_layer = nn.Sequential(nn.Conv2d(f0, 1, 1, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.input_layer(x) + self.input_skip(x)
        x2 = self.residual_conv_1(x1)
        x3 = self.residual_conv_2(x2)
        x4 = self.bridge(x3)
        x6 = self.up_residual_conv1(torch.cat([self.upsample_1(x4), x3], dim=1))
        x8 = self.up_residual_conv2(torch.cat([self.upsample_2(x6), x2], dim=1))
        x10 = self.up_residual_conv3(torch.cat([self.upsample_3(x8), x1], dim=1))
        return self.output_layer(x10)
