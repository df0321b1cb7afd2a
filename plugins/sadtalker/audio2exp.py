"""SadTalker's audio2exp: mel windows + reference expression + blink ratio -> 64 expression coefficients.

Also holds the Wav2Lip-style mel encoder that audio2pose uses too (same layers, same key names).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# (cin, cout, stride, padding, residual) of the twelve 3x3 conv blocks; a 1x1 512 -> 512 block follows.
_ENCODER_LAYOUT: tuple[tuple[int, int, int | tuple[int, int], int, bool], ...] = (
    (1, 32, 1, 1, False),
    (32, 32, 1, 1, True),
    (32, 32, 1, 1, True),
    (32, 64, (3, 1), 1, False),
    (64, 64, 1, 1, True),
    (64, 64, 1, 1, True),
    (64, 128, 3, 1, False),
    (128, 128, 1, 1, True),
    (128, 128, 1, 1, True),
    (128, 256, (3, 2), 1, False),
    (256, 256, 1, 1, True),
    (256, 512, 1, 0, False),
)


class ConvBlock(nn.Module):
    """Conv + batch norm (keys `conv_block.0`, `conv_block.1`), optional residual, then ReLU."""

    def __init__(
        self, cin: int, cout: int, kernel_size: int, stride: int | tuple[int, int], padding: int, residual: bool
    ):
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv2d(cin, cout, kernel_size, stride, padding), nn.BatchNorm2d(cout))
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_block(x)
        if self.residual:
            out = out + x
        return F.relu(out)


def mel_encoder() -> nn.Sequential:
    """The 13-block mel encoder: [N, 1, 80, 16] -> [N, 512, 1, 1]."""
    blocks = [ConvBlock(cin, cout, 3, stride, pad, res) for cin, cout, stride, pad, res in _ENCODER_LAYOUT]
    blocks.append(ConvBlock(512, 512, 1, 1, 0, False))
    return nn.Sequential(*blocks)


class SimpleWrapperV2(nn.Module):
    """One window: mels [N, 1, 80, 16], ref [B, t, 64], ratio [B, t, 1] (N = B*t) -> [B, t, 64]."""

    def __init__(self) -> None:
        super().__init__()
        self.audio_encoder = mel_encoder()
        self.mapping1 = nn.Linear(512 + 64 + 1, 64)

    def forward(self, x: torch.Tensor, ref: torch.Tensor, ratio: torch.Tensor) -> torch.Tensor:
        n = x.size(0)
        audio = self.audio_encoder(x).view(n, -1)
        y = self.mapping1(torch.cat([audio, ref.reshape(n, -1), ratio.reshape(n, -1)], dim=1))
        return y.reshape(ref.shape[0], ref.shape[1], -1)


class Audio2Exp(nn.Module):
    """The official Audio2Exp around SimpleWrapperV2 (`netG`, whose weights are the `audio2exp.` keys)."""

    def __init__(self, netG: SimpleWrapperV2 | None = None, window: int = 10):  # noqa: N803 - the official name
        super().__init__()
        self.netG = netG if netG is not None else SimpleWrapperV2()
        self.window = window

    def test(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """batch: indiv_mels [B, T, 1, 80, 16], ref [B, T, 70], ratio_gt [B, T, 1] -> {"exp_coeff_pred": [B, T, 64]}."""
        mels = batch["indiv_mels"]
        preds = []
        for i in range(0, mels.shape[1], self.window):
            window = mels[:, i : i + self.window]
            ref = batch["ref"][:, :, :64][:, i : i + self.window]
            ratio = batch["ratio_gt"][:, i : i + self.window]
            preds.append(self.netG(window.reshape(-1, 1, 80, 16), ref, ratio))
        return {"exp_coeff_pred": torch.cat(preds, dim=1)}
