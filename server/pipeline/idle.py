"""The living face between turns: the animator fed silence, rendered just ahead of the video track.

Frames are matched to indices by order (the k-th frame out is the k-th 40 ms of silence in),
so an animator that numbers frames its own way still lands on the right index.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import numpy as np

from server.backends import AvatarFace
from server.media import AudioChunk, AvatarState, Emotion, VideoFrame
from server.media.types import VIDEO_FPS
from server.pipeline.backends import Animate
from server.pipeline.tasks import cancel_and_wait

RATE = 16000
PER_FRAME = RATE // VIDEO_FPS
MAX_GAP = VIDEO_FPS  # a jump of more than a second restarts the stream instead of rendering the gap


class IdleFace:
    """`await frame(index, state)`: the idle frame for `index`, or None when the animator is too slow."""

    def __init__(self, animate: Animate, face: AvatarFace, *, ahead: int = 2, wait_s: float = 0.03) -> None:
        self.animate, self.face = animate, face
        self.ahead, self.wait_s = ahead, wait_s
        self._state: AvatarState | None = None
        self._feed: asyncio.Queue[AudioChunk | None] = asyncio.Queue()
        self._out: asyncio.Queue[VideoFrame | BaseException] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._start = 0
        self._fed = 0
        self._got = 0
        self.failures = 0

    async def frame(self, index: int, state: AvatarState) -> VideoFrame | None:
        want = index - self._start
        if self._pump is None or state != self._state or want < self._got or want - self._got > MAX_GAP:
            await self._restart(index, state)
            want = 0
        while self._fed <= want + self.ahead:
            self._feed_one()
        while self._got <= want:
            try:
                item = await asyncio.wait_for(self._out.get(), self.wait_s)
            except TimeoutError:
                return None
            if isinstance(item, BaseException):
                self.failures += 1
                await self._stop()
                return None
            self._got += 1
            if self._got - 1 == want:
                return item
        return None

    def _feed_one(self) -> None:
        pts = (self._start + self._fed) * PER_FRAME
        self._feed.put_nowait(AudioChunk(samples=np.zeros(PER_FRAME, np.int16), sample_rate=RATE, pts=pts))
        self._fed += 1

    async def _restart(self, index: int, state: AvatarState) -> None:
        await self._stop()
        self._state, self._start, self._fed, self._got = state, index, 0, 0
        self._feed, self._out = asyncio.Queue(), asyncio.Queue()
        self._pump = asyncio.create_task(self._run(state, self._feed, self._out), name="idle-face")

    async def _run(
        self, state: AvatarState, feed: asyncio.Queue[AudioChunk | None], out: asyncio.Queue[VideoFrame | BaseException]
    ) -> None:
        async def chunks() -> AsyncIterator[AudioChunk]:
            while (chunk := await feed.get()) is not None:
                yield chunk

        stream = self.animate(chunks(), avatar=self.face, emotion=Emotion.NEUTRAL, state=state)
        try:
            async for frame in stream:
                out.put_nowait(frame)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any animator failure is reported to the reader, which shows the last good frame
            out.put_nowait(exc)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    async def _stop(self) -> None:
        pump, self._pump = self._pump, None
        await cancel_and_wait(pump)

    async def aclose(self) -> None:
        await self._stop()
