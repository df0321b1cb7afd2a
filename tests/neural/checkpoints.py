"""Deterministic stand-in checkpoints in the official file formats of Wav2Lip, FOMM and SadTalker.

The official weights cannot be downloaded here, so the parity and call tests make their own: every
tensor of `<family>/manifest.json` (the official keys and shapes) is drawn from a generator seeded
with the CRC-32 of its key, by the rule the manifest gives. With torch 2.13.0 the bytes are the ones
the reference cases in `<family>/dev.npz` were computed from.
"""

from __future__ import annotations

import json
import math
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
FILES = {
    "wav2lip": ("wav2lip.pth",),
    "fomm": ("vox-cpk.pth.tar",),
    "sadtalker": ("SadTalker_V0.0.2_256.safetensors", "mapping_00229-model.pth.tar"),
}


def reference_case(family: str) -> dict[str, np.ndarray]:
    """The official code's inputs and outputs for one family (`<family>/cases.md` says what each is)."""
    with np.load(HERE / family / "dev.npz") as case:
        return {name: case[name] for name in case.files}


def _seeded(key: str) -> Any:
    import torch

    return torch.Generator().manual_seed(zlib.crc32(key.encode("utf-8")))


def _unit(x: Any) -> Any:
    return x / x.norm().clamp_min(1e-12)


def _power_iteration(u_key: str, weight: Any, steps: int = 20) -> tuple[Any, Any]:
    import torch

    matrix = weight.double().reshape(weight.shape[0], -1)
    u = _unit(torch.randn(matrix.shape[0], generator=_seeded(u_key)).double())
    v = u
    for _ in range(steps):
        v = _unit(matrix.t() @ u)
        u = _unit(matrix @ v)
    return u.float(), v.float()


def tensors(family: str) -> OrderedDict[str, Any]:
    """Every tensor of the family's manifest, keyed as in the manifest."""
    import torch

    manifest = json.loads((HERE / family / "manifest.json").read_text())
    stored_path = HERE / family / "stored.npz"
    stored = dict(np.load(stored_path)) if stored_path.exists() else {}
    dtypes = {"float32": torch.float32, "int64": torch.int64}
    out: OrderedDict[str, Any] = OrderedDict()
    spectral: dict[str, tuple[Any, Any]] = {}
    for entry in manifest["entries"]:
        key, shape, rule = entry["key"], tuple(entry["shape"]), entry["rule"]
        g = _seeded(key)
        if rule == "fan_in":
            t = torch.randn(shape, generator=g) / math.sqrt(math.prod(shape[1:])) * float(entry.get("scale", 1.0))
        elif rule == "norm_weight":
            t = 1.0 + 0.1 * torch.randn(shape, generator=g)
        elif rule == "bias":
            t = 0.05 * torch.randn(shape, generator=g)
        elif rule == "identity_bias":
            t = torch.tensor([1.0, 0.0, 0.0, 1.0] * (shape[0] // 4)) + 0.05 * torch.randn(shape, generator=g)
        elif rule == "running_mean":
            t = 0.1 * torch.randn(shape, generator=g)
        elif rule == "running_var":
            t = 0.5 + torch.rand(shape, generator=g)
        elif rule == "zero":
            t = torch.zeros(shape)
        elif rule == "stored":
            t = torch.from_numpy(np.ascontiguousarray(stored[key]))
        elif rule in ("spectral_u", "spectral_v"):
            weight_key = key[: -len("_u")]
            if weight_key not in spectral:
                spectral[weight_key] = _power_iteration(weight_key + "_u", out[weight_key + "_orig"])
            t = spectral[weight_key][0 if rule == "spectral_u" else 1]
        else:
            raise ValueError(f"{family} manifest: unknown rule {rule!r} for {key}")
        if tuple(t.shape) != shape:
            raise ValueError(f"{key}: made {tuple(t.shape)}, the manifest says {shape}")
        out[key] = t.to(dtypes[entry["dtype"]]).contiguous()
    return out


def _without(prefix: str, weights: dict[str, Any]) -> OrderedDict[str, Any]:
    return OrderedDict((k[len(prefix) :], v) for k, v in weights.items() if k.startswith(prefix))


def write_checkpoint(family: str, out_dir: Path) -> list[Path]:
    """Write the family's official-format file(s) into out_dir and return their paths."""
    import torch

    weights = tensors(family)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in FILES[family]]
    if family == "wav2lip":
        torch.save({"state_dict": OrderedDict(("module." + k, v) for k, v in weights.items())}, paths[0])
    elif family == "fomm":
        torch.save(
            {"generator": _without("generator.", weights), "kp_detector": _without("kp_detector.", weights)}, paths[0]
        )
    elif family == "sadtalker":
        from safetensors.torch import save_file

        save_file(OrderedDict((k, v) for k, v in weights.items() if not k.startswith("mapping.")), str(paths[0]))
        torch.save({"mapping": _without("mapping.", weights), "epoch": 229}, paths[1])
    else:
        raise ValueError(family)
    return paths


def memoria_weights(home: Path, plugin: str, *args: str) -> Any:
    """`memoria weights ARGS` as a user runs it, with only warp and `plugin` (e.g. "plugins.fomm")
    registered and `home/weights` as the weights folder; returns click's result."""
    from click.testing import CliRunner

    from server.cli import main as memoria

    registry = home / "plugin_registry.toml"
    registry.write_text(f'[plugins]\nmodules = ["plugins.warp", "{plugin}"]\nentry_points = false\n')
    env = {
        "MEMORIA_REGISTRY_FILE": str(registry),
        "MEMORIA_WEIGHTS_DIR": str(home / "weights"),
        "MEMORIA_CONFIG": str(home / "none.toml"),
    }
    return CliRunner().invoke(memoria, ["weights", *args], env=env)
