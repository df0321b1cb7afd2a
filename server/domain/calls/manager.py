"""The calls live in this process: started from an offer, ended by either side, all closed at shutdown."""

from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.backends import BackendKind
from server.domain.calls.log import DbCallLog, end_call, open_call
from server.errors import Busy, MemoriaError, NotFound
from server.pipeline.backends import CallAvatar, CallBackends
from server.pipeline.log import CallLog, MemoryLog
from server.pipeline.session import CallSession, SessionConfig
from server.pool import BackendPool
from server.registry import Registry
from server.renders.background import BackgroundRenders, RenderJob
from server.renders.cache import DbRenderStore
from server.rtc.offers import check_offer
from server.rtc.peer import CallPeer
from server.settings import Settings
from server.storage import Storage

log = logging.getLogger(__name__)


class TooManyCalls(MemoriaError):
    """This user has as many calls going as allowed."""

    status_code = 429


class LiveCall:
    def __init__(
        self, call_id: int, user_id: int | None, peer: CallPeer, log: CallLog, avatar_id: int | None = None
    ) -> None:
        self.call_id, self.user_id, self.peer, self.log, self.avatar_id = call_id, user_id, peer, log, avatar_id

    @property
    def session(self) -> CallSession:
        return self.peer.session


class CallManager:
    """Starts calls (DB rows, backends, session, peer) and ends them exactly once."""

    def __init__(
        self,
        *,
        registry: Registry,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        storage: Storage | None = None,
        session_config: SessionConfig | None = None,
        pool: BackendPool | None = None,
        background: BackgroundRenders | None = None,
    ) -> None:
        self.registry, self.settings, self.sessionmaker = registry, settings, sessionmaker
        self.background = background  # renders by animators too slow to be live, made between calls
        self.storage = storage or Storage(settings.data_dir)
        self.session_config = session_config or SessionConfig()
        self.calls: dict[int, LiveCall] = {}
        # The server's runtime passes its one pool (and closes it); a manager of its own (the CLI's
        # ad hoc calls, benchmarks) owns the pool it makes.
        self.pool = pool or BackendPool(registry)
        self._owns_pool = pool is None
        self._ad_hoc_ids = itertools.count(-1, -1)  # calls without a database row
        self._starting: dict[int | None, int] = {}  # calls being set up, per user (count toward the limits)

    async def start(
        self, avatar: CallAvatar, offer_sdp: str, *, user_id: int | None, record: bool = False
    ) -> tuple[str, LiveCall]:
        """Check the offer and the limits, open the call's rows, load its backends and answer the
        offer; returns (answer SDP, call). Nothing is left behind if any step fails."""
        check_offer(offer_sdp)  # garbage never gets a row
        self._admit(user_id)
        self._starting[user_id] = self._starting.get(user_id, 0) + 1
        self._busy()
        try:
            return await self._start(avatar, offer_sdp, user_id=user_id, record=record)
        finally:
            self._starting[user_id] -= 1
            self._busy()

    def _busy(self) -> None:
        """Background renders wait while any call is live or starting."""
        if self.background is not None:
            if self.calls or any(self._starting.values()):
                self.background.idle.clear()
            else:
                self.background.idle.set()

    def _admit(self, user_id: int | None) -> None:
        """Refuse a call over the per-user or the server's limit (the user's other calls are not hurt)."""
        limits = self.settings.calls
        live = len(self.calls) + sum(self._starting.values())
        mine = sum(1 for c in self.calls.values() if c.user_id == user_id) + self._starting.get(user_id, 0)
        if mine >= limits.per_user:
            raise TooManyCalls(
                f"you already have {mine} call{'s' if mine != 1 else ''} going", hint="hang up the other call first"
            )
        if live >= limits.max_calls:
            raise Busy("the server is busy with other calls right now", hint="try again in a minute", retry_after=30)

    async def _start(
        self, avatar: CallAvatar, offer_sdp: str, *, user_id: int | None, record: bool
    ) -> tuple[str, LiveCall]:
        call_log: CallLog
        if self.sessionmaker is not None and user_id is not None and avatar.avatar_id is not None:
            ids = await open_call(self.sessionmaker, user_id=user_id, avatar_id=avatar.avatar_id)
            call_id, call_log = ids.call_id, DbCallLog(self.sessionmaker, ids)
        else:
            call_id, call_log = next(self._ad_hoc_ids), MemoryLog()
        names = self.registry.resolve_all(avatar.backends)
        try:
            fallback = self.registry.live_fallback(names[BackendKind.ANIMATOR])
            backends = await CallBackends.borrow(self.pool, names, fallback=fallback)
        except BaseException:
            await call_log.discard()
            raise
        # Saved avatars replay sentences they already said; ad-hoc calls have no rows to key on.
        renders = DbRenderStore(self.sessionmaker, self.storage) if self.sessionmaker is not None else None
        session = CallSession(backends, avatar, call_log, config=self.session_config, renders=renders)
        peer = CallPeer(
            session,
            call_id=call_id,
            ice_servers=self.settings.ice_servers,
            loopback=self.settings.loopback_only,
            size=avatar.face.size,
            recording_path=self._recording_path(avatar),
            on_closed=self._closed,
            connect_timeout_s=self.settings.calls.connect_timeout_s,
        )
        live = LiveCall(call_id, user_id, peer, call_log, avatar.avatar_id)
        try:
            await session.start()
            answer = await peer.answer(offer_sdp)
        except BaseException:
            await peer.close("failed to start")
            await call_log.discard()
            raise
        self.calls[call_id] = live
        peer.watch_connection()
        if record:
            peer.start_recording()
        return answer.sdp, live

    def _recording_path(self, avatar: CallAvatar) -> Path | None:
        if avatar.avatar_id is None:
            return None
        return self.storage.resolve(self.storage.new_avatar_file(avatar.avatar_id, "recordings", ".mp4"))

    def get(self, call_id: int, user_id: int | None) -> LiveCall:
        live = self.calls.get(call_id)
        if live is None or live.user_id != user_id:
            raise NotFound(f"no call {call_id}")  # as for a call that does not exist
        return live

    async def end(self, call_id: int, user_id: int | None, reason: str = "hung up") -> None:
        await self.get(call_id, user_id).peer.close(reason)

    async def end_avatar_calls(self, avatar_id: int, reason: str) -> int:
        """End every live call of an avatar (before it is deleted); how many there were."""
        ending = [live.peer.close(reason) for live in list(self.calls.values()) if live.avatar_id == avatar_id]
        await asyncio.gather(*ending, return_exceptions=True)
        return len(ending)

    async def _closed(self, peer: CallPeer) -> None:
        if peer.call_id is not None:
            self.calls.pop(peer.call_id, None)
        self._render_later(peer.session)
        self._busy()
        if self.sessionmaker is not None and peer.call_id is not None and peer.call_id > 0:
            path = peer.recorded
            relative = path.relative_to(self.storage.root).as_posix() if path is not None else None
            await end_call(
                self.sessionmaker, peer.call_id, reason=peer.session.end_reason or "ended", recording_path=relative
            )

    def _render_later(self, session: CallSession) -> None:
        """Hand the sentences a slow animator did not show live to the background renders."""
        slow, replays = session.backends.slow, session.replays
        if self.background is not None and slow is not None and replays is not None and replays.later:
            job = RenderJob(slow.info.name, session.avatar.face, tuple(replays.later))
            self.background.submit(job)

    async def close_all(self, reason: str = "server stopped") -> None:
        await asyncio.gather(*(live.peer.close(reason) for live in list(self.calls.values())), return_exceptions=True)
        if self._owns_pool:
            await self.pool.aclose()
