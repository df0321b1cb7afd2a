"""Background work after an avatar's media changes: learn the voice from its samples, prepare the
primary photo for the animator. Runs after the upload has answered, so no request waits for a model.

One job per (what, avatar) at a time; a change that arrives while a job runs makes it run once more
afterwards, so the stored result always ends up matching the latest samples and photo. Backends are
borrowed from the server's one pool (server.pool), so a model loaded here is already loaded for the
next call, and a backend a call holds is never used here at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.domain.media import jobs
from server.pool import BackendPool
from server.registry import Registry
from server.renders import store as render_store
from server.storage import Storage

log = logging.getLogger(__name__)

JobKind = Literal["voice", "face"]
SHUTDOWN_GRACE_S = 5.0  # at shutdown, jobs this close to done finish; the rest are cancelled


class MediaPreparer:
    """The app's background media jobs: schedule, ask whether one is pending, wait for all."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        storage: Storage,
        registry: Registry,
        pool: BackendPool,
    ) -> None:
        self.sessionmaker, self.storage, self.registry, self.pool = sessionmaker, storage, registry, pool
        self._tasks: dict[tuple[JobKind, int], asyncio.Task[None]] = {}
        self._again: dict[tuple[JobKind, int], bool] = {}
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None  # the app's loop, where the jobs run

    # -- scheduling --------------------------------------------------------------------------

    def learn_voice(self, avatar_id: int) -> None:
        """Learn (or forget) the avatar's voice likeness from its current samples, soon."""
        self._schedule("voice", avatar_id)

    def prepare_face(self, avatar_id: int) -> None:
        """Prepare the avatar's primary photo for its animator, soon."""
        self._schedule("face", avatar_id)

    async def photo_changed(self, session: AsyncSession, avatar_id: int) -> None:
        """The animated photo changed: old renders no longer match; prepare the new photo."""
        await render_store.forget_avatar(session, self.storage, avatar_id)
        self.prepare_face(avatar_id)

    async def voice_changed(self, session: AsyncSession, avatar_id: int) -> None:
        """The samples changed: old renders no longer match; learn the voice again."""
        await render_store.forget_avatar(session, self.storage, avatar_id)
        self.learn_voice(avatar_id)

    def learning(self, avatar_id: int) -> bool:
        """Whether the voice of this avatar is being (or about to be) learned in this process."""
        return ("voice", avatar_id) in self._tasks

    def _schedule(self, kind: JobKind, avatar_id: int) -> None:
        if self._closed:
            return
        key = (kind, avatar_id)
        if key in self._tasks:
            self._again[key] = True
            return
        self._loop = asyncio.get_running_loop()
        self._tasks[key] = self._loop.create_task(self._run(key), name=f"{kind}-job-{avatar_id}")

    async def _run(self, key: tuple[JobKind, int]) -> None:
        kind, avatar_id = key
        try:
            while True:
                self._again[key] = False
                try:
                    if kind == "voice":
                        rerun = await jobs.learn_voice(self, avatar_id)
                    else:
                        rerun = await jobs.prepare_face(self, avatar_id)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("%s job for avatar %s failed", kind, avatar_id)
                    rerun = False
                if not (rerun or self._again.get(key)):
                    break
        finally:
            self._tasks.pop(key, None)
            self._again.pop(key, None)

    async def forget(self, avatar_id: int) -> None:
        """The avatar is being deleted: stop its jobs now, so none writes into its folder afterwards."""
        tasks = [task for (_, owner), task in list(self._tasks.items()) if owner == avatar_id]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    # -- waiting and closing -----------------------------------------------------------------

    async def drain(self) -> None:
        """Wait until no job is pending (including jobs scheduled while waiting).

        May be awaited from another event loop than the app's (a test client runs the app in a
        thread of its own): the waiting then happens on the app's loop.
        """
        loop = self._loop
        if loop is not None and loop is not asyncio.get_running_loop() and loop.is_running():
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._wait_all(), loop))
        else:
            await self._wait_all()

    async def _wait_all(self) -> None:
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    async def aclose(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        """Let running jobs finish for up to `grace_s`, cancel the rest; idempotent."""
        self._closed = True
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wait_all(), grace_s)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
