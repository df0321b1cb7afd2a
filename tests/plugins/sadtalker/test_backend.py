"""The sadtalker animator on generated checkpoints in the official formats: imported like a user's
files, rendering a sentence's frames into the call's frame, the same way each time, cancellable, and
saying what is wrong with a missing, corrupt or wrong file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the neural extra is not installed")
pytest.importorskip("safetensors", reason="the neural extra is not installed")

from plugins.sadtalker.backend import SadTalkerAnimator  # noqa: E402
from server.backends import AvatarFace, Readiness  # noqa: E402
from server.testing import sample_face, speech_like  # noqa: E402
from server.testing.samples import chunks  # noqa: E402
from tests.neural.checkpoints import memoria_weights as weights_command  # noqa: E402
from tests.neural.checkpoints import write_checkpoint  # noqa: E402

pytestmark = pytest.mark.slow  # a 725 MB checkpoint; about 5 s per 256 px frame on a 2-core CPU
CONFIG = {"batch_size": 2, "live": "never"}
NAMES = ("SadTalker_V0.0.2_256.safetensors", "mapping_00229-model.pth.tar")


def memoria_weights(home: Path, *args: str) -> Any:
    return weights_command(home, "plugins.sadtalker", *args)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_checkpoint("sadtalker", tmp_path_factory.mktemp("official"))


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory, generated: list[Path]) -> Path:
    home = tmp_path_factory.mktemp("home")
    for path in generated:
        result = memoria_weights(home, "import", str(path))
        assert result.exit_code == 0, result.output
        assert "warning" in result.output and "checksum" in result.output  # not the published files
    recorded = (home / "weights" / "imported.json").read_text()
    assert all(f"sadtalker/{name}" in recorded for name in NAMES)
    return home / "weights"


@pytest.fixture
def face(tmp_path: Path) -> AvatarFace:
    return sample_face(tmp_path)


async def frames_for(animator: SadTalkerAnimator, seconds: float, face: AvatarFace) -> list[Any]:
    return [f async for f in animator.animate(chunks(speech_like(seconds, 22050), 22050), avatar=face)]


def test_without_weights_the_status_names_both_files(tmp_path: Path) -> None:
    status = SadTalkerAnimator.status(tmp_path, {})
    assert status.state is Readiness.MISSING_WEIGHTS
    for name in NAMES:
        assert name in status.detail and f"memoria weights import {name}" in status.fix


def test_files_of_the_wrong_structure_under_the_right_names_are_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    wrong = tmp_path / NAMES[0]
    save_file({"generator.conv.weight": torch.zeros(3, 3)}, str(wrong))
    result = memoria_weights(tmp_path, "import", str(wrong))
    assert result.exit_code != 0 and "does not match SadTalker's networks" in result.output
    assert "missing keys" in result.output
    mapping = tmp_path / NAMES[1]
    torch.save({"model": {}}, mapping)
    result = memoria_weights(tmp_path, "import", str(mapping))
    assert result.exit_code != 0 and "'mapping' state dict" in result.output
    assert not (tmp_path / "weights" / "sadtalker").exists() or not any((tmp_path / "weights" / "sadtalker").iterdir())


async def test_a_sentence_renders_into_the_frame_the_same_way_each_time(weights: Path, face: AvatarFace) -> None:
    animator = SadTalkerAnimator(CONFIG, weights_dir=weights)
    await animator.load()
    try:
        await animator.prepare(face)
        frames = await frames_for(animator, 0.2, face)
        again = await frames_for(animator, 0.2, face)
        still = await animator.base.framed_photo(face)
        box = animator._photos[(str(face.photo), face.size)].box
    finally:
        await animator.aclose()
        await animator.aclose()  # twice is fine
    assert [f.index for f in frames] == list(range(5))  # 0.2 s at 25 fps
    assert all(f.image.shape == (512, 512, 3) and f.image.dtype == np.uint8 for f in frames)
    # the crop is the face's: around the eyes and mouth, inside the frame
    assert 0 <= box.x and box.x + box.side <= 512 and 0 <= box.y and box.y + box.side <= 512 and box.side > 150
    outside = np.ones((512, 512), bool)
    outside[box.y : box.y + box.side, box.x : box.x + box.side] = False
    for frame in frames:
        assert np.array_equal(frame.image[outside], still[outside])  # only the face crop is drawn
        inner = frame.image[box.y + box.side // 4 : box.y + 3 * box.side // 4, box.x + box.side // 4 :][
            :, : box.side // 2
        ]
        assert (
            np.abs(
                inner.astype(int)
                - still[box.y + box.side // 4 : box.y + 3 * box.side // 4, box.x + box.side // 4 :][:, : box.side // 2]
            ).mean()
            > 1
        )
    # the pose and blinks are seeded by the sentence's audio: a cached render equals a fresh one
    assert all(np.array_equal(a.image, b.image) for a, b in zip(frames, again, strict=True))


async def test_cancelling_mid_sentence_leaves_it_usable(weights: Path, face: AvatarFace) -> None:
    animator = SadTalkerAnimator({**CONFIG, "batch_size": 1}, weights_dir=weights)
    await animator.load()
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in animator.animate(chunks(speech_like(0.4, 22050), 22050), avatar=face):
            first.set()
            await asyncio.sleep(3600)

    try:
        task = asyncio.create_task(consume())
        await asyncio.wait_for(first.wait(), 120)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert [f.index for f in await frames_for(animator, 0.12, face)] == [0, 1, 2]
    finally:
        await animator.aclose()


async def test_the_speed_is_measured_at_load(weights: Path) -> None:
    animator = SadTalkerAnimator({"batch_size": 1}, weights_dir=weights)
    await animator.load()
    try:
        assert animator.speed is not None and animator.speed.ms_per_frame > 0
        if not torch.cuda.is_available():
            assert not animator.keeps_up()  # seconds per frame on a CPU: warp is shown live instead
    finally:
        await animator.aclose()


async def test_a_corrupt_checkpoint_fails_to_load_with_a_clear_message(weights: Path, tmp_path: Path) -> None:
    broken = tmp_path / "weights"
    (broken / "sadtalker").mkdir(parents=True)
    (broken / "sadtalker" / NAMES[0]).write_bytes((weights / "sadtalker" / NAMES[0]).open("rb").read(4096))
    (broken / "sadtalker" / NAMES[1]).symlink_to(weights / "sadtalker" / NAMES[1])
    animator = SadTalkerAnimator(CONFIG, weights_dir=broken)
    with pytest.raises(ValueError, match="not a safetensors file"):
        await animator.load()
