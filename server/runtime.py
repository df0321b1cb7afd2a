"""The objects of a running server, built once at start-up in a fixed order and closed in reverse.

    settings -> registry -> storage -> database -> backend pool -> background renders
             -> call manager -> media preparer

Controllers and jobs get them through dependency injection (server.deps); nothing is created on a
first request. At shutdown the media jobs finish or are cancelled, live calls hang up (their rows
closed, what was said kept), background renders stop, the pool closes its backends, and then the
database closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.backup.schedule import NightlyBackups
from server.domain.accounts.throttle import LoginThrottle
from server.domain.calls.manager import CallManager
from server.domain.media.preparation import MediaPreparer
from server.lan.service import LanService, lan_service
from server.pool import BackendPool
from server.registry import Registry
from server.renders.background import BackgroundRenders
from server.renders.cache import DbRenderStore
from server.settings import Settings
from server.storage import Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    """Everything long-lived in one process; see the module docstring for the order."""

    settings: Settings
    registry: Registry
    storage: Storage
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    pool: BackendPool
    background: BackgroundRenders
    calls: CallManager
    media: MediaPreparer
    login_throttle: LoginThrottle
    backups: NightlyBackups | None = None  # with [backup] folder set
    lan: LanService | None = None  # with [lan] enabled (memoria serve --lan): https for the home network

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings, registry: Registry | None = None) -> AsyncIterator[Runtime]:
        """Build the runtime; leaving the block closes it (see `aclose`)."""
        from server.db.engine import make_engine, make_sessionmaker
        from server.startup import recover

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        registry = registry or Registry.from_file(settings.registry_file, weights_dir=settings.weights_dir)
        storage = Storage(settings.data_dir)
        engine = make_engine(settings.db_url)
        try:
            sessionmaker = make_sessionmaker(engine)
            await recover(sessionmaker, storage)  # what a crash of the last run left behind
        except BaseException:
            await engine.dispose()
            raise
        pool = BackendPool(registry)
        background = BackgroundRenders(pool, DbRenderStore(sessionmaker, storage))
        calls = CallManager(
            registry=registry,
            settings=settings,
            sessionmaker=sessionmaker,
            storage=storage,
            pool=pool,
            background=background,
        )
        media = MediaPreparer(sessionmaker=sessionmaker, storage=storage, registry=registry, pool=pool)
        throttle = LoginThrottle(sessionmaker)
        backups = nightly_backups(settings)
        lan = await asyncio.to_thread(lan_service, settings)
        runtime = cls(
            settings, registry, storage, engine, sessionmaker, pool, background, calls, media, throttle, backups, lan
        )
        if backups is not None:
            backups.start()
        try:
            yield runtime
        finally:
            await runtime.aclose()

    async def aclose(self) -> None:
        """Close in reverse order of building; each step runs even if an earlier one failed."""
        steps = (
            ("nightly backups", self.backups.aclose if self.backups else _nothing),
            ("media jobs", self.media.aclose),
            ("live calls", self.calls.close_all),
            ("background renders", self.background.aclose),
            ("backend pool", self.pool.aclose),
            ("database", self.engine.dispose),
        )
        for what, close in steps:
            try:
                await close()
            except Exception:
                log.exception("closing the %s failed", what)


async def _nothing() -> None:
    return None


def nightly_backups(settings: Settings) -> NightlyBackups | None:
    """The nightly backup loop that `[backup] folder` asks for (None without one)."""
    config = settings.backup
    if config.folder is None:
        return None
    return NightlyBackups(
        db_url=settings.db_url,
        data_dir=settings.data_dir,
        folder=config.folder,
        run_at=config.run_at,
        keep_daily=config.keep_daily,
        keep_weekly=config.keep_weekly,
    )
