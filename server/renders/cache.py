"""One call's use of the render cache: a sentence this avatar already said with the same words,
emotion, backends, photo and voice is looked up; a sentence rendered live is stored once it has been
played in full (never a partial one). Stores run one at a time in a background task, after
playback, so they never hold up a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
import numpy as np

from server.media import AudioChunk, VideoFrame
from server.pipeline.backends import CallAvatar, CallBackends
from server.pipeline.timeline import RATE, MediaTimeline

if TYPE_CHECKING:  # the database stack loads only where a cache is used
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from server.renders.store import Replay
    from server.renders.takes import Take
    from server.storage import Storage

log = logging.getLogger(__name__)
CLOSE_WAIT_S = 10.0


class RenderKey(msgspec.Struct, frozen=True):
    """What makes two renders the same (see store.render_key)."""

    avatar_id: int
    text: str
    emotion: str
    backend: str  # "voice+animator"
    variant: str  # photo, output size, learned voice, each backend's own render variant


@dataclass(frozen=True)
class Sentence:
    """A played sentence to render again with a slow animator (server/renders/background.py)."""

    key: RenderKey
    audio: np.ndarray  # int16 at the timeline's rate


class RenderStore(Protocol):
    """Where renders are kept; DbRenderStore in a server, a fake in tests."""

    async def lookup(self, key: RenderKey) -> Replay | None: ...

    async def store(self, key: RenderKey, audio: np.ndarray, frames: Sequence[VideoFrame]) -> None: ...


class DbRenderStore:
    """The render cache on the database (generated_videos rows) and the data directory."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], storage: Storage) -> None:
        self.sessionmaker, self.storage = sessionmaker, storage

    async def lookup(self, key: RenderKey) -> Replay | None:
        from server.renders import store

        async with self.sessionmaker() as session:
            hit = await store.lookup(session, self.storage, **_fields(key))
        if hit is None:
            return None
        return await asyncio.to_thread(store.open_replay, self.storage, hit)

    async def store(self, key: RenderKey, audio: np.ndarray, frames: Sequence[VideoFrame]) -> None:
        from server.renders import store

        chunk = AudioChunk(samples=audio, sample_rate=RATE)
        async with self.sessionmaker() as session:
            await store.store(session, self.storage, **_fields(key), audio=[chunk], frames=frames)


def _fields(key: RenderKey) -> dict[str, Any]:
    return {f: getattr(key, f) for f in key.__struct_fields__}


class ReplayCache:
    """The render cache for one call's avatar and backends: lookups, and stores after playback."""

    def __init__(
        self, store: RenderStore, timeline: MediaTimeline, *, avatar_id: int, backend: str, variant: str
    ) -> None:
        self.store, self.timeline = store, timeline
        self.avatar_id, self.backend, self.variant = avatar_id, backend, variant
        self.hits = self.misses = self.stored = self.dropped = 0
        # With a slow animator the live frames are the fallback's: keep only the played sentences'
        # audio in `later`, for the slow animator to render after the call.
        self.deferred = False
        self.later: list[Sentence] = []
        self._queue: asyncio.Queue[tuple[Take, int]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    @classmethod
    def for_call(
        cls, store: RenderStore | None, avatar: CallAvatar, backends: CallBackends, timeline: MediaTimeline
    ) -> ReplayCache | None:
        """None (no caching) without a store or for an avatar that has no database row."""
        if store is None or avatar.avatar_id is None:
            return None
        voice, animator = backends.voice, backends.slow or backends.animator
        photo = avatar.photo_id if avatar.photo_id is not None else avatar.face.photo.name
        width, height = avatar.face.size
        parts = [
            f"photo={photo}",
            f"size={width}x{height}",
            f"voice={_digest(avatar.voice.learned)}",
            f"cfg={voice.render_variant()}+{animator.render_variant()}",
        ]
        names = f"{voice.info.name}+{animator.info.name}"
        cache = cls(store, timeline, avatar_id=avatar.avatar_id, backend=names, variant=";".join(parts))
        cache.deferred = backends.slow is not None
        return cache

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

    def keep(self, take: Take, flushes: int) -> None:
        """Store `take` once the timeline has played it through, unless a flush cut it first."""
        self._queue.put_nowait((take, flushes))
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
            take, flushes = await self._queue.get()
            try:
                played = await self.timeline.played(take.end or 0, flushes)
                if played and (render := take.render()) is not None:
                    if self.deferred:
                        self.later.append(Sentence(self.key(take.text, take.emotion), render[0]))
                    else:
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


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
