"""Where a reply's sentences come from, as a reply turn sees it.

`SentenceRenderer` renders every sentence live (voice + animator) and keeps nothing; with a render
cache, `CachedRenderer` first offers a stored render of the sentence (its audio, and its frames
shown as they are decoded) and records live sentences for the cache. Either way the turn only
places audio and frames on the timeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import numpy as np

from server.media import VideoFrame
from server.pipeline.backends import CallAvatar, CallBackends
from server.pipeline.timeline import RATE, MediaTimeline
from server.renders.cache import RenderStore, ReplayCache
from server.renders.playback import replay_pcm, show_replay
from server.renders.takes import Recorder

if TYPE_CHECKING:
    from server.renders.store import Replay

log = logging.getLogger(__name__)
Show = Callable[[int, VideoFrame], None]


class StoredSentence:
    """A stored render opened for playback: `pcm` at the timeline's rate; `show` puts its frames up."""

    def __init__(self, replay: Replay, pcm: np.ndarray) -> None:
        self.replay, self.pcm = replay, pcm

    def show(self, first_index: int, count: int, show: Show) -> Awaitable[None]:
        """Show `count` frames from `first_index` (decoded a few at a time); closes the render after."""
        return show_replay(self.replay, first_index, count, show)

    def close(self) -> None:
        self.replay.close()


class SentenceRenderer:
    """Every sentence rendered live; nothing stored."""

    aligned = False  # whether each sentence starts on a frame edge (so it owns its frames)

    async def stored(self, text: str, emotion: str) -> StoredSentence | None:
        return None

    def recorder(self, flushes: int) -> Recorder:
        return Recorder(None, flushes)

    async def aclose(self) -> None:
        """Finish what is pending (stores of played sentences); safe to call twice."""


class CachedRenderer(SentenceRenderer):
    """Stored renders first, live otherwise; live sentences are kept once played in full."""

    aligned = True

    def __init__(self, cache: ReplayCache) -> None:
        self.cache = cache

    @classmethod
    def for_call(
        cls, store: RenderStore | None, avatar: CallAvatar, backends: CallBackends, timeline: MediaTimeline
    ) -> SentenceRenderer:
        """A cached renderer for a saved avatar; the live one without a store or a database row."""
        cache = ReplayCache.for_call(store, avatar, backends, timeline)
        return cls(cache) if cache is not None else SentenceRenderer()

    async def stored(self, text: str, emotion: str) -> StoredSentence | None:
        replay = await self.cache.lookup(text, emotion)
        if replay is None:
            return None
        try:
            pcm = await asyncio.to_thread(replay_pcm, replay, RATE)
        except Exception:  # a damaged file costs a render, never the reply
            log.exception("a cached render could not be read")
            pcm = np.zeros(0, np.int16)
        if len(pcm) == 0:
            replay.close()
            return None
        return StoredSentence(replay, pcm)

    def recorder(self, flushes: int) -> Recorder:
        return Recorder(self.cache, flushes)

    async def aclose(self) -> None:
        await self.cache.aclose()
