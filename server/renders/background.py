"""Full-quality renders of what an avatar said, made after its calls by an animator too slow to be
live here (Wav2Lip, SadTalker or FOMM on a CPU).

Such a call shows the fallback animator live; every sentence it played in full is handed here with
its audio. One worker renders them one at a time with the slow animator, only while no call is
live (a render must never take a live call's CPU), and stores each in the render cache under the
slow animator's key: the next call that says the sentence replays it at full quality.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from server.backends import AnimatorBackend, AvatarFace
from server.media import AudioChunk, Emotion, VideoFrame
from server.pipeline.timeline import RATE
from server.pool import BackendPool
from server.renders.cache import RenderStore, Sentence

log = logging.getLogger(__name__)
CHUNK = RATE // 50  # 20 ms, as a call feeds an animator
EMOTIONS = {e.value: e for e in Emotion}
MAX_QUEUED = 200  # sentences waiting; a job past this is dropped (its sentences can be said again)


@dataclass(frozen=True)
class RenderJob:
    animator: str
    face: AvatarFace
    sentences: tuple[Sentence, ...]


class BackgroundRenders:
    """The queue of sentences to render after calls, and its one worker."""

    def __init__(self, pool: BackendPool, store: RenderStore | None) -> None:
        self.pool, self.store = pool, store
        self.idle = asyncio.Event()  # set while no call is live (CallManager keeps it)
        self.idle.set()
        self.rendered = self.failed = self.dropped = 0
        self._queue: asyncio.Queue[RenderJob] = asyncio.Queue()
        self.waiting = 0  # sentences queued and not yet rendered or given up
        self._worker: asyncio.Task[None] | None = None

    def submit(self, job: RenderJob) -> None:
        if self.store is None or not job.sentences:
            return
        if self.waiting + len(job.sentences) > MAX_QUEUED:
            self.dropped += len(job.sentences)
            log.warning("background renders: %d sentences waiting; dropped %d", self.waiting, len(job.sentences))
            return
        self._queue.put_nowait(job)
        self.waiting += len(job.sentences)
        log.info("background renders: %d sentences of %s queued", len(job.sentences), job.animator)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="background-renders")

    async def drain(self) -> None:
        """Wait until every queued sentence is rendered or given up (tests, benchmarks)."""
        await self._queue.join()

    async def aclose(self) -> None:
        """Stop at once; what is not rendered yet is rendered when the sentence is said again."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await self._render(job)
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken animator costs these renders, never the server
                self.failed += len(job.sentences)
                log.exception("background renders with %s failed", job.animator)
            finally:
                self.waiting -= len(job.sentences)
                self._queue.task_done()

    async def _render(self, job: RenderJob) -> None:
        assert self.store is not None
        async with self.pool.borrow(AnimatorBackend, job.animator) as animator:
            for done, sentence in enumerate(job.sentences, 1):
                await self.idle.wait()
                emotion = EMOTIONS.get(sentence.key.emotion, Emotion.NEUTRAL)
                frames = [f async for f in animator.animate(_chunks(sentence.audio), avatar=job.face, emotion=emotion)]
                if not frames:
                    self.failed += 1
                    continue
                await self.store.store(sentence.key, sentence.audio, _renumbered(frames))
                self.rendered += 1
                log.info("background renders: %d/%d with %s stored", done, len(job.sentences), job.animator)


def slow_animator_notice(animator: AnimatorBackend, name: str) -> str:
    """What the user is told at the start of a call whose animator cannot keep up here, in plain
    words; the engine and its measured speed go to the log."""
    speed = getattr(animator, "speed", None)
    log.info("showing the fallback face: %s", speed.describe(animator.info.name) if speed else animator.info.name)
    return (
        f"This computer is not fast enough to show {name}'s detailed face live, so you see a simpler face "
        f"for now. After the call, what {name} said is prepared in full detail and shown when it is said again."
    )


async def _chunks(audio: np.ndarray) -> AsyncIterator[AudioChunk]:
    for start in range(0, len(audio), CHUNK):
        yield AudioChunk(samples=audio[start : start + CHUNK], sample_rate=RATE, pts=start)
        await asyncio.sleep(0)


def _renumbered(frames: list[VideoFrame]) -> list[VideoFrame]:
    """Frames numbered from 0, as a stored render's are."""
    first = frames[0].index
    return [VideoFrame(image=f.image, index=f.index - first, fps=f.fps) for f in frames]
