"""The one building block of Wav2Lip: convolution, batch norm, ReLU, with an optional identity shortcut.

Parameter names follow the official checkpoint (`<block>.conv_block.0` the convolution,
`<block>.conv_block.1` the BatchNorm2d), so the official state dict loads strictly.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F


class ConvSpec(NamedTuple):
    """Shape of one block: channels, kernel, stride, padding; `residual` adds the input back before the ReLU."""

    cin: int
    cout: int
    kernel: int = 3
    stride: int | tuple[int, int] = 1
    padding: int = 1
    residual: bool = False
    transposed: bool = False
    output_padding: int = 0


def same(channels: int) -> ConvSpec:
    """A 3x3, stride-1 residual block that keeps the channel count and resolution."""
    return ConvSpec(channels, channels, residual=True)


def down(cin: int, cout: int) -> ConvSpec:
    """A 3x3, stride-2 block: halves the resolution."""
    return ConvSpec(cin, cout, stride=2)


def up(cin: int, cout: int) -> ConvSpec:
    """A 3x3, stride-2 transposed block: doubles the resolution exactly (output_padding 1)."""
    return ConvSpec(cin, cout, stride=2, transposed=True, output_padding=1)


class ConvBlock(nn.Module):
    """conv (or transposed conv) -> BatchNorm2d -> (+ input) -> ReLU."""

    def __init__(self, spec: ConvSpec) -> None:
        super().__init__()
        if spec.residual and (spec.cin != spec.cout or spec.stride != 1 or spec.transposed):
            raise ValueError(f"a residual block must keep its shape: {spec}")
        conv: nn.Module
        if spec.transposed:
            conv = nn.ConvTranspose2d(
                spec.cin, spec.cout, spec.kernel, spec.stride, spec.padding, output_padding=spec.output_padding
            )
        else:
            conv = nn.Conv2d(spec.cin, spec.cout, spec.kernel, spec.stride, spec.padding)
        self.conv_block = nn.Sequential(conv, nn.BatchNorm2d(spec.cout))
        self.residual = spec.residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_block(x)
        if self.residual:
            out = out + x
        return F.relu(out)


def stack(specs: list[ConvSpec]) -> nn.Sequential:
    """The blocks of `specs` in order, indexed 0.. as the official `nn.Sequential`s are."""
    return nn.Sequential(*(ConvBlock(spec) for spec in specs))
