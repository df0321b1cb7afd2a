"""Playing a stored render back: its audio at the timeline's rate, its frames decoded a few at a time."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from server.errors import BadInput
from server.media import VideoFrame
from server.pipeline.animation import Show
from server.pipeline.audio import IntResampler

if TYPE_CHECKING:
    from server.renders.store import Replay

BATCHES = (3, 12)  # frames decoded per step: a few first, so the first frame is ready at once


def replay_pcm(replay: Replay, rate: int) -> np.ndarray:
    """A stored render's whole audio at `rate` (blocking: it reads the file)."""
    pcm = np.concatenate([c.samples for c in replay.audio()] or [np.zeros(0, np.int16)])
    if replay.sample_rate == rate:
        return pcm
    resampler = IntResampler(replay.sample_rate, rate)
    return np.concatenate([resampler.convert(pcm), resampler.flush()])


async def show_replay(replay: Replay, first: int, count: int, show: Show) -> None:
    """Show frames first..first+count-1 from the render; a damaged or short render holds its last frame."""
    shown, last = 0, None
    try:
        frames = replay.frames(first_index=first)
        batch = BATCHES[0]
        while shown < count:
            try:
                got = await asyncio.to_thread(_next, frames, min(batch, count - shown))
            except BadInput:
                got = []
            if not got:
                break
            for frame in got:
                show(frame.index, frame)
            last, shown, batch = got[-1], shown + len(got), BATCHES[1]
        while last is not None and shown < count:
            show(first + shown, VideoFrame(image=last.image, index=first + shown, fps=last.fps))
            shown += 1
    finally:
        replay.close()


def _next(frames: Iterator[VideoFrame], count: int) -> list[VideoFrame]:
    return list(itertools.islice(frames, count))
