"""The fomm animator on a generated vox-256 checkpoint in the official format: imported like a
user's file, keeping the animator contract (driven by warp's frames), or driven by a home video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the neural extra is not installed")

from plugins.fomm.backend import FommAnimator  # noqa: E402
from server.backends import Readiness  # noqa: E402
from server.testing import check_backend, sample_face, speech_like  # noqa: E402
from server.testing.samples import chunks  # noqa: E402
from tests.neural.checkpoints import memoria_weights, write_checkpoint  # noqa: E402

pytestmark = pytest.mark.slow
CONFIG = {"checkpoint": "vox-cpk.pth.tar", "batch_size": 4}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_checkpoint("fomm", tmp_path_factory.mktemp("official"))[0]


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory, generated: Path) -> Path:
    home = tmp_path_factory.mktemp("home")
    result = memoria_weights(home, "plugins.fomm", "import", str(generated))
    assert result.exit_code == 0, result.output
    assert "warning" in result.output  # not the published file: structure checked, checksum recorded
    wrong = home / "vox-adv-cpk.pth.tar"
    torch.save({"generator": {}, "kp_detector": {"x": torch.zeros(1)}}, wrong)
    refused = memoria_weights(home, "plugins.fomm", "import", str(wrong))
    assert refused.exit_code != 0 and "does not match FOMM's vox-256" in refused.output
    return home / "weights"


def test_without_weights_the_status_names_the_file(tmp_path: Path) -> None:
    status = FommAnimator.status(tmp_path, {})
    assert status.state is Readiness.MISSING_WEIGHTS and "vox-adv-cpk.pth.tar" in status.fix


async def test_it_keeps_the_contract_driven_by_warp(weights: Path) -> None:
    report = await check_backend(FommAnimator, config=CONFIG, weights_dir=weights, require_ready=True)
    assert report.items == 25


async def test_a_home_video_drives_it_for_as_long_as_the_voice_speaks(weights: Path, tmp_path: Path) -> None:
    import av

    clip = tmp_path / "home.mp4"
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width = stream.height = 128
        stream.pix_fmt = "yuv420p"
        for i in range(5):  # shorter than the reply: it loops
            image = np.full((128, 128, 3), 40 * i, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode())
    animator = FommAnimator({**CONFIG, "driving": "clip", "clip": str(clip)}, weights_dir=weights)
    await animator.load()
    try:
        frames = [
            f async for f in animator.animate(chunks(speech_like(0.4, 16000), 16000), avatar=sample_face(tmp_path))
        ]
    finally:
        await animator.aclose()
    assert [f.index for f in frames] == list(range(10)) and frames[0].image.shape == (512, 512, 3)


async def test_a_missing_clip_is_a_clear_error(weights: Path, tmp_path: Path) -> None:
    from server.errors import BadInput

    animator = FommAnimator({**CONFIG, "driving": "clip", "clip": str(tmp_path / "none.mp4")}, weights_dir=weights)
    with pytest.raises(BadInput, match="is not a file"):
        await animator.load()


async def test_a_corrupt_checkpoint_fails_to_load_with_a_clear_message(weights: Path, tmp_path: Path) -> None:
    broken = tmp_path / "weights"
    (broken / "fomm").mkdir(parents=True)
    (broken / "fomm" / "vox-cpk.pth.tar").write_bytes((weights / "fomm" / "vox-cpk.pth.tar").read_bytes()[:5000])
    animator = FommAnimator(CONFIG, weights_dir=broken)
    with pytest.raises(ValueError, match="is not a readable PyTorch checkpoint"):
        await animator.load()
