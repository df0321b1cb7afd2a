"""Wav2Lip parity: our mel and network reproduce the official code's numbers on the reference case.

The checkpoint is the deterministic stand-in of tests/neural/checkpoints.py in the official file
format; the reference case was computed from it by the official Wav2Lip code.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (the neural backends need it)")

from plugins.wav2lip.audio import mel_chunks, melspectrogram  # noqa: E402
from plugins.wav2lip.network import expected_keys, load_network  # noqa: E402
from tests.neural.checkpoints import reference_case, write_checkpoint  # noqa: E402

NET_TOL = 1e-4
MEL_TOL = 5e-4


@pytest.fixture(scope="module")
def case() -> dict[str, np.ndarray]:
    return reference_case("wav2lip")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_checkpoint("wav2lip", tmp_path_factory.mktemp("wav2lip"))[0]


@pytest.fixture(scope="module")
def network(checkpoint: Path) -> torch.nn.Module:
    return load_network(checkpoint)


def _run(network: torch.nn.Module, *inputs: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out: np.ndarray = network(*(torch.from_numpy(np.ascontiguousarray(a)) for a in inputs)).numpy()
    return out


def test_mel_matches_official(case: dict[str, np.ndarray]) -> None:
    mel = melspectrogram(case["wav"])
    assert mel.shape == (80, len(case["wav"]) // 200 + 1) == case["mel"].shape
    assert mel.dtype == np.float32
    assert np.abs(mel - case["mel"]).max() <= MEL_TOL


def test_mel_chunks_match_official(case: dict[str, np.ndarray]) -> None:
    chunks = mel_chunks(melspectrogram(case["wav"]), fps=25.0)
    assert len(chunks) == 24
    assert all(chunk.shape == (80, 16) for chunk in chunks)
    taken = np.stack([chunks[i] for i in case["mel_chunk_index"]])[:, None]
    assert np.abs(taken - case["audio_sequences"]).max() <= MEL_TOL
    # on the reference mel itself each window must be exactly the official columns
    exact = mel_chunks(case["mel"])
    for index, start in zip(case["mel_chunk_index"], case["mel_chunk_start"], strict=True):
        assert np.array_equal(exact[index], case["mel"][:, start : start + 16])
    assert np.array_equal(np.stack([exact[i] for i in case["mel_chunk_index"]])[:, None], case["audio_sequences"])


def test_network_matches_official(network: torch.nn.Module, case: dict[str, np.ndarray]) -> None:
    out = _run(network, case["audio_sequences"], case["face_sequences"])
    ref = case["output"]
    assert out.shape == ref.shape == (5, 3, 96, 96)
    assert np.abs(out - ref).max() <= NET_TOL * max(1.0, float(np.abs(ref).max()))


def test_five_dimensional_form_gives_the_same_numbers(network: torch.nn.Module, case: dict[str, np.ndarray]) -> None:
    # the 5 frames as one clip of T=5 ([1, T, 1, 80, 16] / [1, 6, T, 96, 96]) and as a batch of clips
    audio, faces = case["audio_sequences"], case["face_sequences"]
    clip = _run(network, audio[None], faces.transpose(1, 0, 2, 3)[None])
    assert clip.shape == (1, 3, 5, 96, 96)
    frames = _run(network, audio, faces)
    assert np.abs(clip[0].transpose(1, 0, 2, 3) - frames).max() <= 1e-6
    # B=2 clips of T=2: clip b holds frames (2b, 2b+1)
    clips = faces[:4].reshape(2, 2, 6, 96, 96).transpose(0, 2, 1, 3, 4)
    pairs = _run(network, audio[:4].reshape(2, 2, 1, 80, 16), clips)
    assert pairs.shape == (2, 3, 2, 96, 96)
    assert np.abs(pairs.transpose(0, 2, 1, 3, 4).reshape(4, 3, 96, 96) - frames[:4]).max() <= 1e-6


def test_expected_keys_match_the_checkpoint(checkpoint: Path) -> None:
    state = torch.load(checkpoint, weights_only=True)["state_dict"]
    assert expected_keys() == {k.removeprefix("module."): tuple(v.shape) for k, v in state.items()}


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere.pth"):
        load_network(tmp_path / "nowhere.pth")


def test_truncated_checkpoint_is_a_clear_error(checkpoint: Path, tmp_path: Path) -> None:
    broken = tmp_path / "wav2lip.pth"
    broken.write_bytes(checkpoint.read_bytes()[:100_000])
    with pytest.raises(ValueError, match=r"wav2lip\.pth is not a readable torch checkpoint"):
        load_network(broken)
    page = tmp_path / "wav2lip_gan.pth"
    page.write_text("<!DOCTYPE html><html>Sign in to download</html>")
    with pytest.raises(ValueError, match="failed download"):
        load_network(page)


def test_wrong_keys_and_shapes_are_listed(checkpoint: Path, tmp_path: Path) -> None:
    state = OrderedDict(torch.load(checkpoint, weights_only=True)["state_dict"])
    state.pop("module.output_block.1.bias")
    state["module.extra_head.weight"] = torch.zeros(3)
    state["module.output_block.1.weight"] = torch.zeros(4, 32, 1, 1)
    bad = tmp_path / "other.pth"
    torch.save({"state_dict": state}, bad)
    with pytest.raises(ValueError) as error:
        load_network(bad)
    message = str(error.value)
    assert "other.pth" in message
    assert "missing keys: output_block.1.bias" in message
    assert "unexpected keys: extra_head.weight" in message
    assert "output_block.1.weight (4, 32, 1, 1) (want (3, 32, 1, 1))" in message
    bare = tmp_path / "bare.pth"
    torch.save(state, bare)
    with pytest.raises(ValueError, match="no 'state_dict'"):
        load_network(bare)
