"""SadTalker's SPADE decoder: spectral-normed SPADE residual blocks from 64x64 features to the image."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SpectralConv2d(nn.Module):
    """A conv whose weight is `weight_orig / sigma`, sigma = u . (W v) from the stored u, v.

    The state dict of `torch.nn.utils.spectral_norm(nn.Conv2d(...))` (`weight_orig`, `weight_u`,
    `weight_v`); as that hook does in eval mode, no power iteration runs. Filled by loading a checkpoint.
    """

    weight_u: torch.Tensor
    weight_v: torch.Tensor
    bias: nn.Parameter | None

    def __init__(self, fin: int, fout: int, kernel_size: int, padding: int = 0, dilation: int = 1, bias: bool = True):
        super().__init__()
        self.register_parameter("bias", nn.Parameter(torch.empty(fout)) if bias else None)
        self.weight_orig = nn.Parameter(torch.empty(fout, fin, kernel_size, kernel_size))
        self.register_buffer("weight_u", torch.empty(fout))
        self.register_buffer("weight_v", torch.empty(fin * kernel_size * kernel_size))
        self.padding = padding
        self.dilation = dilation

    def weight(self) -> torch.Tensor:
        """The normalized kernel."""
        w = self.weight_orig
        sigma = torch.dot(self.weight_u, torch.mv(w.reshape(w.shape[0], -1), self.weight_v))
        return w / sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight(), self.bias, padding=self.padding, dilation=self.dilation)


class SPADE(nn.Module):
    """Instance norm (no affine) modulated by gamma, beta predicted from the segmentation features."""

    def __init__(self, norm_nc: int, label_nc: int, hidden: int = 128):
        super().__init__()
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_nc, hidden, kernel_size=3, padding=1), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, norm_nc, kernel_size=3, padding=1)
        self.mlp_beta = nn.Conv2d(hidden, norm_nc, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        normalized = F.instance_norm(x, eps=1e-5)
        segmap = F.interpolate(segmap, size=x.shape[2:], mode="nearest")
        actv = self.mlp_shared(segmap)
        return normalized * (1 + self.mlp_gamma(actv)) + self.mlp_beta(actv)


class SPADEResnetBlock(nn.Module):
    """Two SPADE-norm, LeakyReLU(0.2), spectral conv steps plus a (learned when fin != fout) shortcut."""

    def __init__(self, fin: int, fout: int, label_nc: int):
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        self.conv_0 = SpectralConv2d(fin, fmiddle, kernel_size=3, padding=1)
        self.conv_1 = SpectralConv2d(fmiddle, fout, kernel_size=3, padding=1)
        if self.learned_shortcut:
            self.conv_s = SpectralConv2d(fin, fout, kernel_size=1, bias=False)
        self.norm_0 = SPADE(fin, label_nc)
        self.norm_1 = SPADE(fmiddle, label_nc)
        if self.learned_shortcut:
            self.norm_s = SPADE(fin, label_nc)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        x_s = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), 0.2))
        return x_s + dx


class SPADEDecoder(nn.Module):
    """Warped features [B, 256, 64, 64] -> image [B, 3, 256, 256] (Sigmoid), six middle blocks, two ups."""

    def __init__(self, ic: int = 256, oc: int = 64, label_nc: int = 256):
        super().__init__()
        self.fc = nn.Conv2d(ic, 2 * ic, 3, padding=1)
        for i in range(6):
            setattr(self, f"G_middle_{i}", SPADEResnetBlock(2 * ic, 2 * ic, label_nc))
        self.up_0 = SPADEResnetBlock(2 * ic, ic, label_nc)
        self.up_1 = SPADEResnetBlock(ic, oc, label_nc)
        self.conv_img = nn.Conv2d(oc, 3, 3, padding=1)

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        x = self.fc(feature)
        for i in range(6):
            x = getattr(self, f"G_middle_{i}")(x, feature)
        x = self.up_0(F.interpolate(x, scale_factor=2), feature)
        x = self.up_1(F.interpolate(x, scale_factor=2), feature)
        return torch.sigmoid(self.conv_img(F.leaky_relu(x, 2e-1)))
