"""The Wav2Lip generator (Prajwal et al. 2020) and a strict loader for the official `wav2lip.pth` files.

A U-Net over a 96x96 face whose bottleneck is a 512-d embedding of 0.2 s of mel spectrogram;
our own code, with the official parameter names so `wav2lip.pth` and `wav2lip_gan.pth` load strictly.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from plugins.wav2lip.layers import ConvSpec, down, same, stack, up

MEL_SHAPE = (1, 80, 16)
FACE_SHAPE = (6, 96, 96)

# Resolution after each encoder stage: 96, 48, 24, 12, 6, 3, 1.
FACE_ENCODER: list[list[ConvSpec]] = [
    [ConvSpec(6, 16, kernel=7, padding=3)],
    [down(16, 32), same(32), same(32)],
    [down(32, 64), same(64), same(64), same(64)],
    [down(64, 128), same(128), same(128)],
    [down(128, 256), same(256), same(256)],
    [down(256, 512), same(512)],
    [ConvSpec(512, 512, padding=0), ConvSpec(512, 512, kernel=1, padding=0)],
]

# 80x16 mel -> 27x16 -> 9x6 -> 3x3 -> 1x1.
AUDIO_ENCODER: list[ConvSpec] = [
    ConvSpec(1, 32), same(32), same(32),
    ConvSpec(32, 64, stride=(3, 1)), same(64), same(64),
    ConvSpec(64, 128, stride=3), same(128), same(128),
    ConvSpec(128, 256, stride=(3, 2)), same(256),
    ConvSpec(256, 512, padding=0), ConvSpec(512, 512, kernel=1, padding=0),
]  # fmt: skip

# Each stage's output is concatenated with the encoder feature of the same resolution (the skip),
# hence input channels = previous output + skip channels: 1x1 -> 3x3 -> 6 -> 12 -> 24 -> 48 -> 96.
FACE_DECODER: list[list[ConvSpec]] = [
    [ConvSpec(512, 512, kernel=1, padding=0)],
    [ConvSpec(1024, 512, padding=0, transposed=True), same(512)],
    [up(1024, 512), same(512), same(512)],
    [up(768, 384), same(384), same(384)],
    [up(512, 256), same(256), same(256)],
    [up(320, 128), same(128), same(128)],
    [up(160, 64), same(64), same(64)],
]


class Wav2Lip(nn.Module):
    """Mel window + masked/reference face -> the face with a mouth that speaks the window, Sigmoid BGR."""

    def __init__(self) -> None:
        super().__init__()
        self.face_encoder_blocks = nn.ModuleList(stack(stage) for stage in FACE_ENCODER)
        self.audio_encoder = stack(AUDIO_ENCODER)
        self.face_decoder_blocks = nn.ModuleList(stack(stage) for stage in FACE_DECODER)
        # 64 decoder + 16 first-encoder channels at 96x96; the Sigmoid runs in forward (no parameters)
        self.output_block = nn.Sequential(*stack([ConvSpec(80, 32)]), nn.Conv2d(32, 3, kernel_size=1))

    def forward(self, audio_sequences: torch.Tensor, face_sequences: torch.Tensor) -> torch.Tensor:
        """[B,1,80,16] + [B,6,96,96] -> [B,3,96,96]; the official 5-D form [B,T,...] + [B,6,T,...] -> [B,3,T,96,96]."""
        if face_sequences.dim() > 4:
            return self._forward_sequences(audio_sequences, face_sequences)
        return self._forward_frames(audio_sequences, face_sequences)

    def _forward_frames(self, mel: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        if tuple(mel.shape[1:]) != MEL_SHAPE or tuple(face.shape[1:]) != FACE_SHAPE or len(mel) != len(face):
            raise ValueError(
                "Wav2Lip wants audio [B, 1, 80, 16] and faces [B, 6, 96, 96], "
                f"got {list(mel.shape)} and {list(face.shape)}"
            )
        skips: list[torch.Tensor] = []
        x = face
        for stage in self.face_encoder_blocks:
            x = stage(x)
            skips.append(x)
        x = self.audio_encoder(mel)
        for stage in self.face_decoder_blocks:
            x = torch.cat((stage(x), skips.pop()), dim=1)
        return torch.sigmoid(self.output_block(x))

    def _forward_sequences(self, mel: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        # frames go time-major into one batch, as the official torch.cat over T does
        batch, steps = mel.shape[0], mel.shape[1]
        flat_mel = mel.transpose(0, 1).reshape(batch * steps, *mel.shape[2:])
        flat_face = face.permute(2, 0, 1, 3, 4).reshape(batch * steps, face.shape[1], *face.shape[3:])
        out = self._forward_frames(flat_mel, flat_face)
        return out.reshape(steps, batch, *out.shape[1:]).permute(1, 2, 0, 3, 4).contiguous()


def expected_keys() -> dict[str, tuple[int, ...]]:
    """Every key of the official state dict (without `module.`) and its shape, for checking a file unrun."""
    with torch.device("meta"):
        net = Wav2Lip()
    return {key: tuple(tensor.shape) for key, tensor in net.state_dict().items()}


def _first(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" ... ({len(names)} in all)" if len(names) > limit else "")


def check_state_dict(state: dict[str, torch.Tensor], path: Path) -> None:
    """Raise a ValueError naming the file and the first differences if `state` is not Wav2Lip's state dict."""
    expected = expected_keys()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    wrong = [
        f"{key} {tuple(state[key].shape)} (want {shape})"
        for key, shape in expected.items()
        if key in state and tuple(state[key].shape) != shape
    ]
    problems = []
    if missing:
        problems.append(f"missing keys: {_first(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_first(unexpected)}")
    if wrong:
        problems.append(f"wrong shapes: {_first(wrong)}")
    if problems:
        raise ValueError(f"{path} is not a Wav2Lip generator checkpoint; " + "; ".join(problems))


def read_state_dict(path: str | Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """The `state_dict` of an official checkpoint with `module.` removed, as inference.py reads it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Wav2Lip weights not found: {path} (expected wav2lip.pth or wav2lip_gan.pth)")
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # torch raises many types for bad files; all mean "not a checkpoint"
        with path.open("rb") as f:
            head = f.read(64).lstrip()
        hint = " (it looks like a text/HTML page: a failed download?)" if head[:1] in (b"<", b"{") else ""
        raise ValueError(f"{path} is not a readable torch checkpoint{hint}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        found = sorted(map(str, checkpoint))[:5] if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise ValueError(f"{path} has no 'state_dict' dict, as official Wav2Lip checkpoints do (found: {found})")
    state: dict[str, torch.Tensor] = {}
    for key, value in checkpoint["state_dict"].items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{path}: state_dict entry {key!r} is a {type(value).__name__}, not a tensor")
        # the official loader removes every "module." (DataParallel prefixes), not only a leading one
        state[str(key).replace("module.", "")] = value
    return state


def load_network(path: str | Path, device: str | torch.device = "cpu") -> Wav2Lip:
    """Load `wav2lip.pth` / `wav2lip_gan.pth` strictly into a Wav2Lip in eval mode on `device`."""
    state = read_state_dict(path, device)
    check_state_dict(state, Path(path))
    net = Wav2Lip()
    net.load_state_dict(state, strict=True)
    return net.to(device).eval()


def check_file(path: str | Path) -> None:
    """`memoria weights import`'s structure check: a ValueError unless `path` is a Wav2Lip generator."""
    check_state_dict(read_state_dict(path), Path(path))
