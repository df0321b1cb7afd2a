"""Loading FOMM's vox-256 networks from the official `vox-cpk.pth.tar` / `vox-adv-cpk.pth.tar`.

Loads strictly, as the official demo.load_checkpoints does, but checks the file's structure first so a
wrong or damaged file fails with a message naming the file and the keys at fault.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from plugins.fomm.generator import OcclusionAwareGenerator
from plugins.fomm.keypoints import KeypointDetector

PARTS = ("kp_detector", "generator")
_SHOWN = 5  # keys listed per kind of mismatch


def _build() -> tuple[KeypointDetector, OcclusionAwareGenerator]:
    """Fresh vox-256 networks (config/vox-256.yaml: 10 keypoints with jacobians, occlusion on), as PARTS."""
    return KeypointDetector(), OcclusionAwareGenerator()


def expected_keys() -> dict[str, tuple[int, ...]]:
    """Every tensor a checkpoint must hold, as "<part>.<key>" -> shape, from freshly built networks."""
    with torch.device("meta"):  # shapes only: no memory, no random init cost
        networks = _build()
    return {
        f"{part}.{key}": tuple(tensor.shape)
        for part, module in zip(PARTS, networks, strict=True)
        for key, tensor in module.state_dict().items()
    }


def _read(path: Path, device: str | torch.device) -> Mapping[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(
            f"FOMM checkpoint {path} not found (expected the official vox-cpk.pth.tar or vox-adv-cpk.pth.tar)"
        )
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # torch.load raises RuntimeError, EOFError, UnpicklingError, ... by damage kind
        raise ValueError(f"{path} is not a readable PyTorch checkpoint ({type(exc).__name__}: {exc})") from exc
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f"{path} is not a FOMM checkpoint: it holds a {type(checkpoint).__name__}, not a dict")
    absent = [part for part in PARTS if not isinstance(checkpoint.get(part), Mapping)]
    if absent:
        found = ", ".join(sorted(map(str, checkpoint))[:10]) or "nothing"
        raise ValueError(f"{path} is not a FOMM checkpoint: no {' or '.join(absent)} state dict (found {found})")
    return checkpoint


def _listed(keys: list[str]) -> str:
    more = f", ... ({len(keys)} in all)" if len(keys) > _SHOWN else ""
    return ", ".join(keys[:_SHOWN]) + more


def check_state_dict(path: Path, part: str, module: nn.Module, state: Mapping[str, Any]) -> None:
    """Raise ValueError naming the file and the first missing / unexpected / misshapen keys of one part."""
    expected = module.state_dict()
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    misshapen = [
        f"{key} {tuple(value.shape)} (expected {tuple(expected[key].shape)})"
        if isinstance(value, torch.Tensor)
        else f"{key} ({type(value).__name__}, not a tensor)"
        for key, value in state.items()
        if key in expected and not (isinstance(value, torch.Tensor) and value.shape == expected[key].shape)
    ]
    problems = [
        f"{label}: {_listed(keys)}"
        for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", misshapen))
        if keys
    ]
    if problems:
        raise ValueError(f"{path}: '{part}' does not match FOMM's vox-256 {part}; " + "; ".join(problems))


def load_networks(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[KeypointDetector, OcclusionAwareGenerator]:
    """(kp_detector, generator) in eval mode on `device`, loaded strictly; other checkpoint entries
    (discriminator, optimizers, epoch) are ignored."""
    path = Path(path)
    checkpoint = _read(path, device)
    with torch.device("meta"):  # the checkpoint supplies every tensor, so skip the random init
        kp_detector, generator = _build()
    for part, module in zip(PARTS, (kp_detector, generator), strict=True):
        state = checkpoint[part]
        check_state_dict(path, part, module, state)
        module.load_state_dict(state, strict=True, assign=True)
        module.to(device=device, dtype=torch.float32).eval()
    return kp_detector, generator


def check_file(path: str | os.PathLike[str]) -> None:
    """`memoria weights import`'s structure check: a ValueError unless `path` holds FOMM vox-256 networks."""
    path = Path(path)
    checkpoint = _read(path, "cpu")
    with torch.device("meta"):
        networks = _build()
    for part, module in zip(PARTS, networks, strict=True):
        check_state_dict(path, part, module, checkpoint[part])
