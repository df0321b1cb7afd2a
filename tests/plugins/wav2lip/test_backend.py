"""The wav2lip animator on a generated checkpoint in the official format: imported like a user's
file, keeping the animator contract, repainting only the mouth without a seam, and saying what is
wrong with a missing, corrupt or wrong file."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the neural extra is not installed")

from plugins.wav2lip.backend import Wav2LipAnimator  # noqa: E402
from plugins.wav2lip.paste import FaceBox, blend_mouth, face_box  # noqa: E402
from server.backends import Readiness  # noqa: E402
from server.backends.neural import AudioTrack  # noqa: E402
from server.testing import check_backend, sample_face, speech_like  # noqa: E402
from server.testing.samples import chunks  # noqa: E402
from tests.neural.checkpoints import memoria_weights as weights_command  # noqa: E402
from tests.neural.checkpoints import write_checkpoint  # noqa: E402

CONFIG = {"checkpoint": "wav2lip.pth", "batch_size": 4}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_checkpoint("wav2lip", tmp_path_factory.mktemp("official"))[0]


def memoria_weights(home: Path, *args: str) -> Any:
    return weights_command(home, "plugins.wav2lip", *args)


@pytest.fixture
def weights(tmp_path: Path, generated: Path) -> Path:
    result = memoria_weights(tmp_path, "import", str(generated))
    assert result.exit_code == 0, result.output
    return tmp_path / "weights"


def test_the_official_file_name_is_imported_with_a_warning_and_its_checksum_recorded(
    tmp_path: Path, generated: Path
) -> None:
    result = memoria_weights(tmp_path, "import", str(generated))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "weights" / "wav2lip" / "wav2lip.pth").is_file()
    assert "warning" in result.output and "checksum is recorded" in result.output
    assert "wav2lip/wav2lip.pth" in (tmp_path / "weights" / "imported.json").read_text()
    verified = memoria_weights(tmp_path, "verify")
    assert "wav2lip.pth" in verified.output


def test_a_file_of_the_wrong_structure_under_the_right_name_is_refused(tmp_path: Path) -> None:
    wrong = tmp_path / "wav2lip_gan.pth"
    torch.save({"state_dict": {"conv.weight": torch.zeros(3, 3)}}, wrong)
    result = memoria_weights(tmp_path, "import", str(wrong))
    assert result.exit_code != 0
    assert "is not a wav2lip checkpoint" in result.output and "missing keys" in result.output
    assert not (tmp_path / "weights" / "wav2lip" / "wav2lip_gan.pth").exists()
    truncated = tmp_path / "other" / "wav2lip_gan.pth"
    truncated.parent.mkdir()
    truncated.write_bytes(b"<html>not found</html>")
    result = memoria_weights(tmp_path, "import", str(truncated))
    assert result.exit_code != 0 and "failed download" in result.output


def test_without_weights_the_status_names_the_file_and_the_command(tmp_path: Path) -> None:
    status = Wav2LipAnimator.status(tmp_path, {})
    assert status.state is Readiness.MISSING_WEIGHTS
    assert "wav2lip_gan.pth" in status.detail and "memoria weights import wav2lip_gan.pth" in status.fix


async def test_it_keeps_the_contract_and_measures_its_speed(weights: Path) -> None:
    report = await check_backend(Wav2LipAnimator, config=CONFIG, weights_dir=weights, require_ready=True)
    assert report.items == 25
    animator = Wav2LipAnimator({**CONFIG, "live": "never"}, weights_dir=weights)
    await animator.load()
    try:
        assert animator.speed is not None and animator.speed.ms_per_frame > 0 and not animator.keeps_up()
    finally:
        await animator.aclose()


async def test_speech_repaints_the_mouth_and_nothing_outside_the_face(weights: Path, tmp_path: Path) -> None:
    face = sample_face(tmp_path / "face")
    animator = Wav2LipAnimator(CONFIG, weights_dir=weights)
    await animator.load()
    try:
        audio = np.concatenate([np.zeros(8000, np.float32), speech_like(1.0, 16000)])  # 0.5 s silence, speech
        track = AudioTrack(16000)
        plain = [f async for f in animator.base.animate(track.tee(chunks(audio, 16000)), avatar=face)]
        box = face_box(await animator.base.landmarks_in_frame(face), (512, 512), 10)
        painted = animator._lipsync(plain, track, box)
    finally:
        await animator.aclose()
    assert [f.index for f in painted] == [f.index for f in plain]
    changed = [np.abs(p.image.astype(int) - q.image.astype(int)) for p, q in zip(painted, plain, strict=True)]
    for diff in changed:
        inner = diff[box.y1 : box.y2, box.x1 : box.x2]
        assert diff.sum() == inner.sum(), "pixels outside the face box changed"
        assert diff[box.y1 : box.y1 + box.height // 3].max() == 0, "eyes and forehead keep warp's frame"
    assert not any(d.any() for d in changed[:10]), "silence keeps warp's own mouth"
    assert sum(int(d.any()) for d in changed[13:]) > 15, "speech frames are repainted"


def test_the_paste_has_no_seam_at_the_box_edge() -> None:
    frame = np.full((200, 200, 3), 120, np.uint8)
    generated = np.full((96, 96, 3), 30, np.uint8)  # much darker: colour matching must pull it back
    box = FaceBox(50, 40, 150, 160)
    out = blend_mouth(frame, generated, box).astype(int)
    edge = np.concatenate(
        [out[box.y1, box.x1 : box.x2], out[box.y2 - 1, box.x1 : box.x2], out[box.y1 : box.y2, box.x1]]
    )
    assert np.abs(edge - 120).max() <= 2  # the box border is the frame's own
    assert np.abs(out - 120).max() <= 20  # a flat patch matched to a flat frame stays close to it


async def test_a_corrupt_checkpoint_fails_to_load_with_a_clear_message(weights: Path) -> None:
    path = weights / "wav2lip" / "wav2lip.pth"
    path.write_bytes(path.read_bytes()[:1000])
    animator = Wav2LipAnimator(CONFIG, weights_dir=weights)
    with pytest.raises(ValueError, match="not a readable torch checkpoint"):
        await animator.load()
    shutil.rmtree(weights)
