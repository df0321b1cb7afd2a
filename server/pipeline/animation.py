"""One animator stream over a stretch of a reply's audio that starts on a frame edge.

A reply usually needs one; when a sentence is replayed from the render cache the stream is ended
before it and a new one starts after it, so the animator never draws what the replay shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from server.backends import AvatarFace
from server.media import AudioChunk, AvatarState, Emotion, VideoFrame
from server.pipeline.backends import Animate
from server.pipeline.timeline import SAMPLES_PER_FRAME

Show = Callable[[int, VideoFrame], None]


class AnimatorRun:
    """Feed 48 kHz chunks with `feed`, finish with `end`; the k-th frame out is shown at the frame
    of the first fed sample + k (frames are matched by order, not by the animator's own numbering)."""

    def __init__(self, animate: Animate, face: AvatarFace, emotion: Emotion, show: Show, name: str) -> None:
        self.animate, self.face, self.emotion, self.show = animate, face, emotion, show
        self.first_sample: int | None = None
        self.ended_cleanly = False  # the stream ran to its end: every frame it will draw is out
        self._ended = False
        self._feed: asyncio.Queue[AudioChunk | None] = asyncio.Queue()
        self.task: asyncio.Task[None] = asyncio.create_task(self._run(), name=name)

    def feed(self, chunk: AudioChunk) -> None:
        if self._ended:
            raise RuntimeError("this animator stream has ended")
        if self.first_sample is None:
            self.first_sample = chunk.pts
        self._feed.put_nowait(chunk)

    def end(self) -> None:
        """No more audio: the animator draws what it still holds and stops."""
        if not self._ended:
            self._ended = True
            self._feed.put_nowait(None)

    async def _run(self) -> None:
        async def chunks() -> AsyncIterator[AudioChunk]:
            while (chunk := await self._feed.get()) is not None:
                yield chunk

        stream = self.animate(chunks(), avatar=self.face, emotion=self.emotion, state=AvatarState.SPEAKING)
        index: int | None = None
        try:
            async for frame in stream:
                if index is None:  # frames only come after the first fed audio
                    index = (self.first_sample or 0) // SAMPLES_PER_FRAME
                self.show(index, frame)
                index += 1
            self.ended_cleanly = True
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
