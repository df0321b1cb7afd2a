"""SadTalker's MappingNet: a window of 3DMM coefficients -> head-pose bins, translation, keypoint offsets."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MappingNet(nn.Module):
    """x [B, coeff_nc, 27] -> {"yaw", "pitch", "roll": [B, 66] logits, "t": [B, 3], "exp": [B, 45]}.

    coeff_nc is 70 for the 'crop' checkpoint (mapping_00229) and 73 for the 'full' one (mapping_00109).
    """

    def __init__(
        self, coeff_nc: int = 70, descriptor_nc: int = 1024, layer: int = 3, num_kp: int = 15, num_bins: int = 66
    ):
        super().__init__()
        self.layer = layer
        self.first = nn.Sequential(nn.Conv1d(coeff_nc, descriptor_nc, kernel_size=7, padding=0, bias=True))
        for i in range(layer):
            # Index 0 is the (parameter-free) LeakyReLU, so the conv's keys are `encoder{i}.1.*`.
            block = nn.Sequential(nn.LeakyReLU(0.1), nn.Conv1d(descriptor_nc, descriptor_nc, kernel_size=3, dilation=3))
            setattr(self, f"encoder{i}", block)
        self.fc_roll = nn.Linear(descriptor_nc, num_bins)
        self.fc_pitch = nn.Linear(descriptor_nc, num_bins)
        self.fc_yaw = nn.Linear(descriptor_nc, num_bins)
        self.fc_t = nn.Linear(descriptor_nc, 3)
        self.fc_exp = nn.Linear(descriptor_nc, 3 * num_kp)

    def forward(self, input_3dmm: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.first(input_3dmm)
        for i in range(self.layer):
            # Each dilated conv shortens the sequence by 6; the residual is cropped to match.
            out = getattr(self, f"encoder{i}")(out) + out[:, :, 3:-3]
        out = F.adaptive_avg_pool1d(out, 1).view(out.shape[0], -1)
        return {
            "yaw": self.fc_yaw(out),
            "pitch": self.fc_pitch(out),
            "roll": self.fc_roll(out),
            "t": self.fc_t(out),
            "exp": self.fc_exp(out),
        }
