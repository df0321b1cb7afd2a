"""Numerical parity of plugins.fomm with the official First Order Motion Model (vox-256).

The reference case was computed by the official code from the deterministic stand-in checkpoint that
`write_checkpoint("fomm", ...)` writes; every component gets the case's own inputs, so a failure points
at one component. Tolerance: max|got - ref| <= 1e-4 * max(1, max|ref|).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (it comes with the bench/embeddings extras)")

from plugins.fomm.generator import OcclusionAwareGenerator  # noqa: E402
from plugins.fomm.keypoints import KeypointDetector  # noqa: E402
from plugins.fomm.motion import normalize_kp  # noqa: E402
from plugins.fomm.network import expected_keys, load_networks  # noqa: E402
from tests.neural.checkpoints import HERE, reference_case, write_checkpoint  # noqa: E402

pytestmark = pytest.mark.slow  # about a minute on 2 cores: six frames through the generator

TOL = 1e-4
FRAMES = (0, 1, 2)


def assert_parity(got: Any, ref: np.ndarray, name: str) -> None:
    got_array = got.detach().cpu().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    assert got_array.shape == ref.shape, f"{name}: shape {got_array.shape}, reference {ref.shape}"
    err = float(np.abs(got_array.astype(np.float64) - ref).max())
    limit = TOL * max(1.0, float(np.abs(ref).max()))
    assert err <= limit, f"{name}: max|got - ref| = {err:.3g} > {limit:.3g}"


def tensor(array: np.ndarray) -> Any:
    return torch.from_numpy(np.ascontiguousarray(array))


def keypoints(case: Mapping[str, np.ndarray], prefix: str, index: int | None = None) -> dict[str, Any]:
    value, jacobian = case[f"{prefix}_value"], case[f"{prefix}_jacobian"]
    if index is not None:
        value, jacobian = value[index], jacobian[index]
    return {"value": tensor(value), "jacobian": tensor(jacobian)}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_checkpoint("fomm", tmp_path_factory.mktemp("fomm"))[0]


@pytest.fixture(scope="module")
def networks(checkpoint: Path) -> tuple[KeypointDetector, OcclusionAwareGenerator]:
    return load_networks(checkpoint)


@pytest.fixture(scope="module")
def case() -> dict[str, np.ndarray]:
    return reference_case("fomm")


def test_expected_keys_are_the_official_ones() -> None:
    import json

    manifest = json.loads((HERE / "fomm" / "manifest.json").read_text())
    official = {entry["key"]: tuple(entry["shape"]) for entry in manifest["entries"]}
    assert expected_keys() == official


def test_networks_load_in_eval_mode(networks: tuple[KeypointDetector, OcclusionAwareGenerator]) -> None:
    for net in networks:
        assert not net.training
        assert all(t.dtype == torch.float32 and t.device.type == "cpu" for t in net.parameters())


@pytest.mark.parametrize("frame", ["source", *FRAMES])
def test_kp_detector_matches_official(networks: Any, case: dict[str, np.ndarray], frame: str | int) -> None:
    kp_detector, _ = networks
    image = case["source_image"] if frame == "source" else case["driving_frames"][frame]
    ref = keypoints(case, "kp_source") if frame == "source" else keypoints(case, "kp_driving", int(frame))
    with torch.no_grad():
        kp = kp_detector(tensor(image))
    assert set(kp) == {"value", "jacobian"}
    assert_parity(kp["value"], ref["value"].numpy(), f"{frame} value")
    assert_parity(kp["jacobian"], ref["jacobian"].numpy(), f"{frame} jacobian")


@pytest.mark.parametrize("frame", FRAMES)
def test_normalize_kp_matches_official(case: dict[str, np.ndarray], frame: int) -> None:
    kp_norm = normalize_kp(
        kp_source=keypoints(case, "kp_source"),
        kp_driving=keypoints(case, "kp_driving", frame),
        kp_driving_initial=keypoints(case, "kp_driving_initial"),
        use_relative_movement=True,
        use_relative_jacobian=True,
        adapt_movement_scale=True,
    )
    assert_parity(kp_norm["value"], case["kp_norm_value"][frame], f"frame {frame} value")
    assert_parity(kp_norm["jacobian"], case["kp_norm_jacobian"][frame], f"frame {frame} jacobian")


def test_normalize_kp_defaults_pass_the_driving_keypoints_through(case: dict[str, np.ndarray]) -> None:
    driving = keypoints(case, "kp_driving", 2)
    kp_norm = normalize_kp(keypoints(case, "kp_source"), driving, keypoints(case, "kp_driving_initial"))
    assert kp_norm["value"] is driving["value"] and kp_norm["jacobian"] is driving["jacobian"]
    moved = normalize_kp(
        keypoints(case, "kp_source"), driving, keypoints(case, "kp_driving_initial"), use_relative_movement=True
    )
    assert moved["jacobian"] is driving["jacobian"]  # relative jacobian is off


@pytest.mark.parametrize("frame", FRAMES)
def test_generator_matches_official(networks: Any, case: dict[str, np.ndarray], frame: int) -> None:
    _, generator = networks
    with torch.no_grad():
        out = generator(
            tensor(case["source_image"]),
            kp_driving=keypoints(case, "kp_norm", frame),
            kp_source=keypoints(case, "kp_source"),
        )
    assert list(out) == ["mask", "sparse_deformed", "occlusion_map", "deformed", "prediction"]
    assert tuple(out["sparse_deformed"].shape) == (1, 11, 3, 64, 64)
    assert tuple(out["deformed"].shape) == (1, 3, 256, 256)
    assert_parity(out["mask"], case["mask"][frame], f"frame {frame} mask")
    assert_parity(out["occlusion_map"], case["occlusion_map"][frame], f"frame {frame} occlusion_map")
    assert_parity(out["prediction"], case["prediction"][frame], f"frame {frame} prediction")


def test_batched_step_matches_official(networks: Any, case: dict[str, np.ndarray]) -> None:
    """All driving frames in one batch give each frame's reference (the backend batches frames)."""
    kp_detector, generator = networks
    count = len(FRAMES)
    with torch.no_grad():
        kp = kp_detector(tensor(np.concatenate(case["driving_frames"])))
        kp_source = {k: v.expand(count, *v.shape[1:]) for k, v in keypoints(case, "kp_source").items()}
        kp_norm = {k: v.flatten(0, 1) for k, v in keypoints(case, "kp_norm").items()}
        out = generator(tensor(case["source_image"]).expand(count, -1, -1, -1), kp_driving=kp_norm, kp_source=kp_source)
    assert_parity(kp["value"], np.concatenate(case["kp_driving_value"]), "batched value")
    assert_parity(kp["jacobian"], np.concatenate(case["kp_driving_jacobian"]), "batched jacobian")
    assert_parity(out["prediction"], np.concatenate(case["prediction"]), "batched prediction")


@pytest.fixture(scope="module")
def state(checkpoint: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = torch.load(checkpoint, weights_only=True)
    return loaded


def test_adversarial_checkpoint_loads(state: dict[str, Any], tmp_path: Path, case: dict[str, np.ndarray]) -> None:
    path = tmp_path / "vox-adv-cpk.pth.tar"
    extra = {
        "discriminator": {"discs.1.conv.weight": torch.zeros(4, 3, 4, 4)},
        "optimizer_generator": {"state": {}, "param_groups": [{"lr": 2e-4, "betas": (0.5, 0.999), "params": [0]}]},
        "epoch": 99,
    }
    torch.save({**state, **extra}, path)
    kp_detector, _ = load_networks(path)
    with torch.no_grad():
        kp = kp_detector(tensor(case["source_image"]))
    assert_parity(kp["value"], case["kp_source_value"], "adv source value")


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere.pth.tar"):
        load_networks(tmp_path / "nowhere.pth.tar")


def test_truncated_file_is_a_clear_error(checkpoint: Path, tmp_path: Path) -> None:
    path = tmp_path / "vox-cpk.pth.tar"
    with checkpoint.open("rb") as f:
        path.write_bytes(f.read(1_000_000))
    with pytest.raises(ValueError, match="not a readable PyTorch checkpoint") as info:
        load_networks(path)
    assert str(path) in str(info.value)


def test_other_pickles_are_not_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "wav2lip.pth"
    torch.save({"state_dict": {"conv.weight": torch.zeros(1)}}, path)
    with pytest.raises(ValueError, match=r"no kp_detector or generator state dict \(found state_dict\)"):
        load_networks(path)


def test_wrong_keys_are_listed(state: dict[str, Any], tmp_path: Path) -> None:
    kp = dict(state["kp_detector"])
    kp["keypoints.weight"] = kp.pop("kp.weight")
    path = tmp_path / "renamed.pth.tar"
    torch.save({"kp_detector": kp, "generator": {}}, path)
    with pytest.raises(ValueError) as info:
        load_networks(path)
    message = str(info.value)
    assert str(path) in message and "'kp_detector'" in message
    assert "missing keys: kp.weight" in message and "unexpected keys: keypoints.weight" in message


def test_wrong_shapes_are_listed(state: dict[str, Any], tmp_path: Path) -> None:
    generator = {key: state["generator"][key] for key in ("first.conv.bias", "final.bias")}
    generator["final.weight"] = torch.zeros(4, 64, 7, 7)  # an RGBA head: not vox-256
    path = tmp_path / "misshapen.pth.tar"
    torch.save({"kp_detector": state["kp_detector"], "generator": generator}, path)
    with pytest.raises(ValueError) as info:
        load_networks(path)
    message = str(info.value)
    assert "'generator'" in message and "in all)" in message  # the many missing keys are summarised
    assert "wrong shapes: final.weight (4, 64, 7, 7) (expected (3, 64, 7, 7))" in message
