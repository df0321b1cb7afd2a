"""A call's use of the render cache (server.face.render_cache): a sentence this avatar already said
with the same words, emotion, backends, photo and voice is played back instead of re-rendered, and
a sentence rendered live is stored once it has been played in full (never a partial one).

Stores run one at a time in a background task, after playback, so they never hold up a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
import numpy as np

from server.media import AudioChunk, VideoFrame
from server.pipeline.backends import CallAvatar, CallBackends
from server.pipeline.timeline import RATE, SAMPLES_PER_FRAME, MediaTimeline

if TYPE_CHECKING:  # the database stack loads only where a cache is used
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from server.face.render_cache import Replay
    from server.storage import Storage

log = logging.getLogger(__name__)

MAX_TAKE_S = 12.0  # longer sentences are not kept: their raw frames would hold too much memory
POLL_S = 0.02
CLOSE_WAIT_S = 10.0


class RenderKey(msgspec.Struct, frozen=True):
    """What makes two renders the same (see render_cache.render_key)."""

    avatar_id: int
    text: str
    emotion: str
    backend: str  # "voice+animator"
    variant: str  # photo, output size, learned voice, backend settings


class RenderStore(Protocol):
    """Where renders are kept; DbRenderStore in a server, a fake in tests."""

    async def lookup(self, key: RenderKey) -> Replay | None: ...

    async def store(self, key: RenderKey, audio: np.ndarray, frames: Sequence[VideoFrame]) -> None: ...


class DbRenderStore:
    """The render cache on the database (generated_videos rows) and the data directory."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage) -> None:
        self.sessionmaker, self.storage = sessionmaker, storage

    async def lookup(self, key: RenderKey) -> Replay | None:
        from server.face import render_cache

        async with self.sessionmaker() as session:
            hit = await render_cache.lookup(session, self.storage, **_fields(key))
        if hit is None:
            return None
        return await asyncio.to_thread(render_cache.open_replay, self.storage, hit)

    async def store(self, key: RenderKey, audio: np.ndarray, frames: Sequence[VideoFrame]) -> None:
        from server.face import render_cache

        chunk = AudioChunk(samples=audio, sample_rate=RATE)
        async with self.sessionmaker() as session:
            await render_cache.store(session, self.storage, **_fields(key), audio=[chunk], frames=frames)


def _fields(key: RenderKey) -> dict[str, Any]:
    return {f: getattr(key, f) for f in key.__struct_fields__}


class Take:
    """A sentence as it is rendered live: its 48 kHz audio from a frame edge and the frames over it."""

    def __init__(self, text: str, emotion: str, start: int, run: Any) -> None:
        self.text, self.emotion, self.start, self.run = text, emotion, start, run
        self.first_frame = start // SAMPLES_PER_FRAME
        self.audio: list[np.ndarray] = []
        self.samples = 0
        self.frames: dict[int, VideoFrame] = {}
        self.end: int | None = None  # first sample after the sentence, once the voice has finished it
        self.too_long = False

    @property
    def stop_frame(self) -> int:
        """One past the sentence's last frame (the frame holding its last sample is its own)."""
        return -(-(self.end if self.end is not None else 0) // SAMPLES_PER_FRAME)

    def add_audio(self, samples: np.ndarray) -> None:
        if self.too_long:
            return
        self.audio.append(samples)
        self.samples += len(samples)
        if self.samples > MAX_TAKE_S * RATE:
            self.too_long, self.audio, self.frames = True, [], {}

    def add_frame(self, index: int, frame: VideoFrame) -> None:
        if not self.too_long and index >= self.first_frame and (self.end is None or index < self.stop_frame):
            self.frames[index] = frame

    def finish(self) -> None:
        self.end = self.start + self.samples
        self.frames = {i: f for i, f in self.frames.items() if i < self.stop_frame}

    def ready(self) -> bool:
        """Voice done and every frame the animator will draw for it is in."""
        return self.end is not None and (self.stop_frame - 1 in self.frames or bool(self.run.ended_cleanly))

    def render(self) -> tuple[np.ndarray, list[VideoFrame]] | None:
        """The audio and its frames, or None when something is missing (a partial render is never kept)."""
        if self.too_long or self.end is None or not self.samples:
            return None
        frames = []
        for index in range(self.first_frame, self.stop_frame):
            if index not in self.frames:
                break
            frames.append(self.frames[index])
        # an animator may leave out the last, partial frame; a replay holds the one before it
        if not frames or len(frames) < self.stop_frame - self.first_frame - 1:
            return None
        return np.concatenate(self.audio), frames


class Recorder:
    """One turn's live sentences on their way into the cache: each is handed over once the voice
    has finished it and all its frames are in; `drop()` forgets the rest (a cut turn)."""

    def __init__(self, replays: ReplayCache | None, timeline: MediaTimeline, flushes: int) -> None:
        self.replays, self.timeline, self.flushes = replays, timeline, flushes
        self.current: Take | None = None
        self.pending: list[Take] = []

    def open(self, text: str, emotion: str, start: int, run: Any) -> None:
        if self.replays is not None:
            self.current = Take(text, emotion, start, run)
            self.pending.append(self.current)

    def add_audio(self, samples: np.ndarray) -> None:
        if self.current is not None:
            self.current.add_audio(samples)

    def add_frame(self, index: int, frame: VideoFrame) -> None:
        if self.pending:
            for take in self.pending:
                take.add_frame(index, frame)
            self.settle()

    def close(self) -> None:
        if self.current is not None:
            self.current.finish()
            self.current = None
            self.settle()

    def settle(self) -> None:
        for take in [t for t in self.pending if t.ready()]:
            self.pending.remove(take)
            if self.replays is not None:
                self.replays.keep(take, self.timeline, self.flushes)

    def drop(self) -> None:
        self.current, self.pending = None, []


class ReplayCache:
    """The render cache for one call's avatar and backends: lookups, and stores after playback."""

    def __init__(self, store: RenderStore, *, avatar_id: int, backend: str, variant: str) -> None:
        self.store, self.avatar_id, self.backend, self.variant = store, avatar_id, backend, variant
        self.hits = self.misses = self.stored = self.dropped = 0
        self._queue: asyncio.Queue[tuple[Take, MediaTimeline, int]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    @classmethod
    def for_call(cls, store: RenderStore | None, avatar: CallAvatar, backends: CallBackends) -> ReplayCache | None:
        """None (no caching) without a store or for an avatar that has no database row."""
        if store is None or avatar.avatar_id is None:
            return None
        voice, animator = backends.voice, backends.animator
        photo = avatar.photo_id or avatar.face.photo.name  # a stored photo's file name is unique too
        width, height = avatar.face.size
        settings = {"voice": _settings(voice.config), "animator": _settings(animator.config)}
        variant = f"photo={photo};size={width}x{height};voice={_digest(avatar.voice.learned)};cfg={_digest(settings)}"
        return cls(
            store, avatar_id=avatar.avatar_id, backend=f"{voice.info.name}+{animator.info.name}", variant=variant
        )

    def key(self, text: str, emotion: str) -> RenderKey:
        return RenderKey(self.avatar_id, " ".join(text.split()), emotion, self.backend, self.variant)

    async def lookup(self, text: str, emotion: str) -> Replay | None:
        """The stored render of this sentence, opened; None on a miss or if the cache cannot be read."""
        try:
            replay = await self.store.lookup(self.key(text, emotion))
        except Exception:  # a broken cache costs a render, never the reply
            log.exception("render cache lookup failed")
            replay = None
        if replay is None:
            self.misses += 1
        else:
            self.hits += 1
        return replay

    def keep(self, take: Take, timeline: MediaTimeline, flushes: int) -> None:
        """Store `take` once the timeline has played it through, unless a flush cut it first."""
        self._queue.put_nowait((take, timeline, flushes))
        if self._worker is None:
            self._worker = asyncio.create_task(self._work(), name=f"render-cache-{self.avatar_id}")

    async def drain(self) -> None:
        """Wait until every kept take has been stored or dropped."""
        await self._queue.join()

    async def aclose(self) -> None:
        """Finish pending stores (bounded), then stop; safe to call twice."""
        if self._worker is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), CLOSE_WAIT_S)
        worker, self._worker = self._worker, None
        worker.cancel()
        await asyncio.wait([worker])

    async def _work(self) -> None:
        while True:
            take, timeline, flushes = await self._queue.get()
            try:
                if await _played(take, timeline, flushes) and (render := take.render()) is not None:
                    await self.store.store(self.key(take.text, take.emotion), *render)
                    self.stored += 1
                else:
                    self.dropped += 1
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed store costs a later render, never the call
                self.dropped += 1
                log.exception("storing a render failed")
            finally:
                self._queue.task_done()


async def _played(take: Take, timeline: MediaTimeline, flushes: int) -> bool:
    """Wait until the take's last sample has played; False if a flush (barge-in, hang-up) cut it."""
    end = take.end if take.end is not None else 0
    while True:
        if timeline.stats.flushes != flushes:
            flushed_at = timeline.stats.last_flush_sample
            return flushed_at is not None and flushed_at >= end
        if timeline.audio_position >= end:
            return True
        await asyncio.sleep(POLL_S)


def _settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """A backend's settings that change its output (the basic plugin's fault knobs do not)."""
    return {k: v for k, v in config.items() if not k.startswith("fake_")}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
