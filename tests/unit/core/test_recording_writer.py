"""The recording writer never waits forever: a folder deleted under it, an encoder that stops
getting media, or a full queue end it within bounds (a hung writer once held a shared worker
thread per call until the whole server stopped answering)."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from server.rtc import mp4
from server.rtc.mp4 import Mp4Writer


def frame(i: int) -> np.ndarray:
    return np.full((64, 64, 3), i % 255, np.uint8)


async def test_a_recording_whose_folder_is_deleted_ends_and_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "avatars" / "7" / "recordings"
    writer = Mp4Writer(folder / "call.mp4", size=(64, 64))
    for i in range(5):
        writer.add_video(frame(i), i)
    shutil.rmtree(tmp_path / "avatars")  # the avatar was deleted while its call was recording
    for i in range(5, 600):  # more than the queue holds: producers must never block
        writer.add_video(frame(i), i)
        writer.add_audio(np.zeros(1920, np.int16), i * 1920)
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 - any encoder error, raised to the caller, not swallowed
        await writer.close()
    assert time.monotonic() - started < 5
    assert not writer._thread.is_alive()


async def test_an_encoder_without_media_gives_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mp4, "IDLE_S", 0.3)
    writer = Mp4Writer(tmp_path / "idle.mp4", size=(64, 64))
    writer.add_video(frame(0), 0)
    await asyncio.sleep(1.5)  # nobody feeds it and nobody closes it (the call vanished)
    assert not writer._thread.is_alive()
    assert not writer.partial.exists()
    with pytest.raises(TimeoutError):
        await writer.close()


async def test_close_on_a_full_queue_does_not_block_the_event_loop(tmp_path: Path) -> None:
    gate = threading.Event()
    writer = Mp4Writer(tmp_path / "full.mp4", size=(64, 64))
    original = writer._encode

    def slow(*args: object) -> None:
        gate.wait(5)
        original(*args)

    writer._encode = slow  # type: ignore[method-assign]
    for i in range(2000):
        writer.add_video(frame(i), i)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    closing = asyncio.create_task(writer.close())
    await asyncio.sleep(0.3)
    gate.set()
    await closing
    task.cancel()
    assert ticks >= 10  # the loop kept running while close() waited
    assert (tmp_path / "full.mp4").is_file()
