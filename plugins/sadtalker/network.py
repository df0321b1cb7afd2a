"""Load SadTalker's six networks from the official files, as the official 256 px 'crop' pipeline does.

`SadTalker_V0.0.2_256.safetensors` (or `_512`) holds five networks under key prefixes; each one takes
the keys that contain its prefix, with `<prefix>.` removed (the official substring rule), and loads
them strictly. `mapping_00229-model.pth.tar` (or `mapping_00109`, 73 coefficients, for 'full') holds
`{"mapping": state_dict, "epoch": int}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch import nn

from plugins.sadtalker.audio2exp import Audio2Exp, SimpleWrapperV2
from plugins.sadtalker.audio2pose import Audio2Pose
from plugins.sadtalker.generator import OcclusionAwareSPADEGenerator
from plugins.sadtalker.keypoints import KPDetector
from plugins.sadtalker.mapping import MappingNet
from plugins.sadtalker.recon import ReconNetWrapper

# The safetensors prefixes in the order the official converter wrote them, with the module each loads.
# audio2exp's keys belong to SimpleWrapperV2, which Audio2Exp then wraps as `netG`.
_PARTS: dict[str, Callable[[], nn.Module]] = {
    "kp_extractor": KPDetector,
    "generator": OcclusionAwareSPADEGenerator,
    "audio2exp": SimpleWrapperV2,
    "audio2pose": Audio2Pose,
    "face_3drecon": ReconNetWrapper,
}
# mapping_00229 (preprocess 'crop') maps 70 coefficients; mapping_00109 ('full') maps 73.
_CROP_COEFFS, _FULL_COEFFS = 70, 73
_SHOWN = 5  # how many offending keys an error message names


def _fresh(builder: Callable[[], nn.Module]) -> nn.Module:
    # On the meta device: no memory and no random init; the file's tensors are assigned afterwards.
    with torch.device("meta"):
        return builder()


def _shapes(module: nn.Module, prefix: str = "") -> dict[str, tuple[int, ...]]:
    return {prefix + key: tuple(value.shape) for key, value in module.state_dict().items()}


def expected_keys() -> dict[str, tuple[int, ...]]:
    """Every key of the SadTalker safetensors file (with its prefix) and its shape, from fresh modules."""
    out: dict[str, tuple[int, ...]] = {}
    for prefix, builder in _PARTS.items():
        out.update(_shapes(_fresh(builder), prefix + "."))
    return out


def expected_mapping_keys(coeff_nc: int = 70) -> dict[str, tuple[int, ...]]:
    """Every key of the mapping file's `"mapping"` state dict (no prefix) and its shape; 70 or 73 coefficients."""
    return _shapes(_fresh(lambda: MappingNet(coeff_nc=coeff_nc)))


def _first(keys: list[str]) -> str:
    more = f" ... ({len(keys)} in all)" if len(keys) > _SHOWN else ""
    return ", ".join(keys[:_SHOWN]) + more


def _check(
    path: Path, part: str, module: nn.Module, weights: Mapping[str, torch.Tensor], prefix: str, names: Mapping[str, str]
) -> None:
    """Raise a ValueError naming the file and the first offending keys unless keys and shapes match.

    Keys are named as the file spells them: `names` maps a selected key back, missing ones get `prefix`.
    """
    expected = _shapes(module)
    missing = [prefix + k for k in expected if k not in weights]
    unexpected = [names.get(k, k) for k in weights if k not in expected]
    wrong = [
        f"{names.get(k, k)} {tuple(v.shape)} (expected {expected[k]})"
        for k, v in weights.items()
        if k in expected and tuple(v.shape) != expected[k]
    ]
    problems = []
    if missing:
        problems.append(f"missing keys: {_first(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_first(unexpected)}")
    if wrong:
        problems.append(f"wrong shapes: {_first(wrong)}")
    if problems:
        raise ValueError(f"{path}: not SadTalker's {part} weights; " + "; ".join(problems))


def _load_into(
    path: Path,
    part: str,
    module: nn.Module,
    weights: Mapping[str, torch.Tensor],
    prefix: str = "",
    names: Mapping[str, str] | None = None,
) -> None:
    _check(path, part, module, weights, prefix, names or {})
    # Cast like load_state_dict's copy would (e.g. a float16 export into the float32 modules).
    state = module.state_dict()
    cast = {k: v.to(state[k].dtype) for k, v in weights.items()}
    module.load_state_dict(cast, strict=True, assign=True)


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise FileNotFoundError(f"SadTalker checkpoint not found: {path}")
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own error type for a file that is not one
        raise ValueError(f"{path}: not a safetensors file ({exc})") from exc


def _read_mapping(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise FileNotFoundError(f"SadTalker mapping checkpoint not found: {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and weights_only errors all mean "not this format"
        raise ValueError(f"{path}: not a torch checkpoint of plain tensors ({exc})") from exc
    state = checkpoint.get("mapping") if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path}: expected a dict with a 'mapping' state dict (mapping_00229-model.pth.tar)")
    return state


def _select(checkpoint: Mapping[str, torch.Tensor], prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    # The official rule: every key that contains the prefix, with "<prefix>." removed.
    weights: dict[str, torch.Tensor] = {}
    names: dict[str, str] = {}
    for key, value in checkpoint.items():
        if prefix in key:
            short = key.replace(prefix + ".", "")
            weights[short] = value
            names[short] = key
    return weights, names


def _ready(module: nn.Module, device: str | torch.device) -> nn.Module:
    module = module.to(device).eval()
    for param in module.parameters():
        param.requires_grad_(False)
    return module


def load_mapping(mapping_path: str | Path, device: str | torch.device = "cpu") -> MappingNet:
    """The MappingNet of `mapping_00229-model.pth.tar` (70 coefficients) or `mapping_00109` (73), in eval mode."""
    path = Path(mapping_path)
    weights = _read_mapping(path)
    first = weights.get("first.0.weight")
    full = first is not None and first.ndim == 3 and first.shape[1] == _FULL_COEFFS
    with torch.device("meta"):  # no memory, no random init: the file's tensors are assigned
        mapping = MappingNet(coeff_nc=_FULL_COEFFS if full else _CROP_COEFFS)
    _load_into(path, "mapping", mapping, weights)
    _ready(mapping, device)
    return mapping


def load_networks(
    safetensors_path: str | Path, mapping_path: str | Path, device: str | torch.device = "cpu"
) -> dict[str, nn.Module]:
    """face_3drecon, audio2exp, audio2pose, mapping, kp_extractor and generator, loaded strictly, in eval mode.

    The `_512` safetensors has the same shapes (the renderer is fully convolutional) and loads too.
    Raises FileNotFoundError for a missing file and ValueError (naming the file and the first
    missing / unexpected keys) for a file of another format or other keys or shapes.
    """
    st_path = Path(safetensors_path)
    if not Path(mapping_path).is_file():  # fail before reading 725 MB
        raise FileNotFoundError(f"SadTalker mapping checkpoint not found: {mapping_path}")
    checkpoint = _read_safetensors(st_path)
    loaded: dict[str, nn.Module] = {}
    for prefix, builder in _PARTS.items():
        module = _fresh(builder)
        weights, names = _select(checkpoint, prefix)
        _load_into(st_path, prefix, module, weights, prefix + ".", names)
        loaded[prefix] = module
    del checkpoint

    netG = loaded["audio2exp"]
    if not isinstance(netG, SimpleWrapperV2):  # narrows the type; _PARTS builds one
        raise TypeError(type(netG))
    networks = {
        "face_3drecon": loaded["face_3drecon"],
        "audio2exp": Audio2Exp(netG),
        "audio2pose": loaded["audio2pose"],
        "mapping": load_mapping(mapping_path, device),
        "kp_extractor": loaded["kp_extractor"],
        "generator": loaded["generator"],
    }
    return {name: _ready(module, device) for name, module in networks.items()}


def check_file(path: str | Path) -> None:
    """`memoria weights import`'s structure check of the safetensors file: a ValueError unless every
    key and shape is SadTalker's (read from the header, without loading 725 MB of tensors)."""
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            found = {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}  # noqa: SIM118
    except Exception as exc:  # safetensors raises its own error type for a file that is not one
        raise ValueError(f"{path}: not a safetensors file ({exc})") from exc
    expected = expected_keys()
    # he_estimator (and any other extra part) is in the official file but unused, as in the official code
    ours = {k: v for k, v in found.items() if any(k.startswith(p + ".") for p in _PARTS)}
    missing = [k for k in expected if k not in ours]
    wrong = [f"{k} {ours[k]} (expected {v})" for k, v in expected.items() if k in ours and ours[k] != v]
    unexpected = [k for k in ours if k not in expected]
    problems = [
        f"{what}: {_first(keys)}"
        for what, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", wrong))
        if keys
    ]
    if problems:
        raise ValueError(f"{path}: does not match SadTalker's networks; " + "; ".join(problems))


def check_mapping_file(path: str | Path) -> None:
    """The structure check of `mapping_00229-model.pth.tar` / `mapping_00109-model.pth.tar`."""
    load_mapping(path, "cpu")
