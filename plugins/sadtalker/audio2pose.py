"""SadTalker's audio2pose: a conditional VAE that samples head-pose motion for 32-frame audio windows.

Only the decoder runs at inference; the CVAE encoder and the motion discriminator are built so the
official `audio2pose.` keys load strictly.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from plugins.sadtalker.audio2exp import mel_encoder
from plugins.sadtalker.res_unet import ResUnet

SEQ_LEN = 32
LATENT = 64
NUM_CLASSES = 46
AUDIO_IN = 512
AUDIO_OUT = 6


class AudioEncoder(nn.Module):
    """Mels [B, T, 1, 80, 16] -> embeddings [B, T, 512] (the same mel encoder as audio2exp)."""

    def __init__(self) -> None:
        super().__init__()
        self.audio_encoder = mel_encoder()

    def forward(self, audio_sequences: torch.Tensor) -> torch.Tensor:
        b = audio_sequences.size(0)
        # Frames stacked time-major, then reshaped batch-major, exactly as the official code does.
        frames = torch.cat([audio_sequences[:, i] for i in range(audio_sequences.size(1))], dim=0)
        embedding = self.audio_encoder(frames)
        return embedding.reshape(b, -1, embedding.shape[1])


class CVAEEncoder(nn.Module):
    """The CVAE's training-time pose encoder; inference never runs it."""

    def __init__(self, hidden: int = 128) -> None:
        super().__init__()
        self.classbias = nn.Parameter(torch.empty(NUM_CLASSES, LATENT))
        self.resunet = ResUnet()
        self.MLP = nn.Sequential()
        self.MLP.add_module("L0", nn.Linear(192 + LATENT + SEQ_LEN * AUDIO_OUT + 6, hidden))
        self.MLP.add_module("A0", nn.ReLU())
        self.linear_means = nn.Linear(hidden, LATENT)
        self.linear_logvar = nn.Linear(hidden, LATENT)
        self.linear_audio = nn.Linear(AUDIO_IN, AUDIO_OUT)


class CVAEDecoder(nn.Module):
    """Latent + pose-style bias + reference pose + audio -> pose motion [B, 32, 6]."""

    def __init__(self, hidden: tuple[int, int] = (128, 192)) -> None:
        super().__init__()
        self.classbias = nn.Parameter(torch.empty(NUM_CLASSES, LATENT))
        self.resunet = ResUnet()
        self.MLP = nn.Sequential()
        self.MLP.add_module("L0", nn.Linear(LATENT + SEQ_LEN * AUDIO_OUT + 6, hidden[0]))
        self.MLP.add_module("A0", nn.ReLU())
        self.MLP.add_module("L1", nn.Linear(hidden[0], hidden[1]))
        self.MLP.add_module("sigmoid", nn.Sigmoid())
        self.pose_linear = nn.Linear(6, 6)
        self.linear_audio = nn.Linear(AUDIO_IN, AUDIO_OUT)

    def forward(self, batch: dict[str, Any]) -> dict[str, Any]:
        z = batch["z"]
        bs = z.shape[0]
        audio = self.linear_audio(batch["audio_emb"]).reshape(bs, -1)
        z = z + self.classbias[batch["class"]]
        x = self.MLP(torch.cat([batch["ref"], z, audio], dim=-1)).reshape(bs, SEQ_LEN, -1)
        pose_emb = self.resunet(x.unsqueeze(1))
        batch["pose_motion_pred"] = self.pose_linear(pose_emb.squeeze(1))
        return batch


class CVAE(nn.Module):
    """Holds the encoder and decoder under the official names; `test` runs the decoder."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = CVAEEncoder()
        self.decoder = CVAEDecoder()

    def test(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Decode `batch["z"]` (drawn by the caller) into `batch["pose_motion_pred"]`."""
        return self.decoder(batch)


class ConvNormRelu(nn.Module):
    """Conv1d (no bias) + BatchNorm1d + ReLU of the motion discriminator (training only)."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int, padding: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, kernel_size, stride, padding, bias=False)
        self.norm = nn.BatchNorm1d(cout)


class PoseSequenceDiscriminator(nn.Module):
    """The training-time pose discriminator, present in the checkpoint; never run here."""

    def __init__(self) -> None:
        super().__init__()
        self.seq = nn.Sequential(
            ConvNormRelu(6, 256, 4, 2, 1),
            ConvNormRelu(256, 512, 4, 2, 1),
            ConvNormRelu(512, 1024, 3, 1, 1),
            nn.Conv1d(1024, 1, kernel_size=3, stride=1, padding=1, bias=True),
        )


class Audio2Pose(nn.Module):
    """`test(batch)` -> {"pose_pred": [B, T, 6], "pose_motion_pred": [B, T, 6], ...} as the official test."""

    def __init__(self, seq_len: int = SEQ_LEN, latent_dim: int = LATENT) -> None:
        super().__init__()
        self.seq_len = seq_len
        self.latent_dim = latent_dim
        self.audio_encoder = AudioEncoder()
        self.netG = CVAE()
        self.netD_motion = PoseSequenceDiscriminator()

    def _window(self, batch: dict[str, Any], mels: torch.Tensor, device: torch.device) -> torch.Tensor:
        # One latent per window from torch's global CPU generator, in the official order of draws.
        batch["z"] = torch.randn(mels.shape[0], self.latent_dim).to(device)
        audio_emb = self.audio_encoder(mels)
        if audio_emb.shape[1] != self.seq_len:
            pad = audio_emb[:, :1].repeat(1, self.seq_len - audio_emb.shape[1], 1)
            audio_emb = torch.cat([pad, audio_emb], 1)
        batch["audio_emb"] = audio_emb
        return self.netG.test(batch)["pose_motion_pred"]

    def test(self, x: dict[str, Any]) -> dict[str, Any]:
        """x: indiv_mels [B, T, 1, 80, 16], ref [B, T, 70], num_frames T, class LongTensor [B] (style 0-45)."""
        ref = x["ref"]
        batch: dict[str, Any] = {"ref": ref[:, 0, -6:], "class": x["class"]}
        mels = x["indiv_mels"][:, 1:]  # frame 0 is the reference pose itself
        frames = int(x["num_frames"]) - 1
        full, rest = divmod(frames, self.seq_len)
        motions = [torch.zeros(batch["ref"].unsqueeze(1).shape, dtype=ref.dtype, device=ref.device)]
        for i in range(full):
            motions.append(self._window(batch, mels[:, i * self.seq_len : (i + 1) * self.seq_len], ref.device))
        if rest != 0:
            motions.append(self._window(batch, mels[:, -self.seq_len :], ref.device)[:, -rest:, :])
        batch["pose_motion_pred"] = torch.cat(motions, dim=1)
        batch["pose_pred"] = ref[:, :1, -6:] + batch["pose_motion_pred"]
        return batch
