"""Nightly backups into a folder, pruned to a retention of daily and weekly archives.

The loop computes the delay to the next run and sleeps once: no polling. The clock is injected,
so tests run a week of nights in milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import URL

from server.backup.create import create_backup
from server.errors import ConfigError

log = logging.getLogger(__name__)

ARCHIVE_PREFIX = "memoria-"
ARCHIVE_SUFFIX = ".tar"
STAMP = "%Y%m%d-%H%M%S"


def archive_name(at: datetime) -> str:
    """`memoria-20260310-030000.tar`: sorts by time, parsed back by archive_time."""
    return f"{ARCHIVE_PREFIX}{at.strftime(STAMP)}{ARCHIVE_SUFFIX}"


def archive_time(name: str) -> datetime | None:
    """When a nightly archive was made, from its name; None for any other file."""
    if not (name.startswith(ARCHIVE_PREFIX) and name.endswith(ARCHIVE_SUFFIX)):
        return None
    try:
        return datetime.strptime(name[len(ARCHIVE_PREFIX) : -len(ARCHIVE_SUFFIX)], STAMP)
    except ValueError:
        return None


def archives_to_keep(stamps: Iterable[datetime], *, keep_daily: int, keep_weekly: int) -> set[datetime]:
    """The newest archive of each of the last `keep_daily` days that have one, and of each of the
    last `keep_weekly` ISO weeks that have one. The newest archive of all is always kept."""
    ordered = sorted(set(stamps), reverse=True)
    keep = set(ordered[:1])
    rules: tuple[tuple[Callable[[datetime], Hashable], int], ...] = (
        (lambda stamp: stamp.date(), keep_daily),
        (lambda stamp: stamp.isocalendar()[:2], keep_weekly),
    )
    for period, limit in rules:
        seen: set[Hashable] = set()
        for stamp in ordered:  # newest first: the first archive met in a period is its newest
            key = period(stamp)
            if key in seen:
                continue
            if len(seen) >= limit:
                break
            seen.add(key)
            keep.add(stamp)
    return keep


def prune(folder: Path, *, keep_daily: int, keep_weekly: int) -> list[Path]:
    """Delete the nightly archives in `folder` the retention does not keep; the ones deleted."""
    archives = {
        stamp: path for path in folder.glob(f"{ARCHIVE_PREFIX}*{ARCHIVE_SUFFIX}") if (stamp := archive_time(path.name))
    }
    keep = archives_to_keep(archives, keep_daily=keep_daily, keep_weekly=keep_weekly)
    doomed = [path for stamp, path in sorted(archives.items()) if stamp not in keep]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def next_run(now: datetime, at: time) -> datetime:
    """The first moment at wall-clock time `at` strictly after `now`."""
    today = datetime.combine(now.date(), at, tzinfo=now.tzinfo)
    return today if today > now else today + timedelta(days=1)


def parse_run_at(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"bad backup time {value!r}", hint='write it as HH:MM, e.g. "03:00"') from exc


class Clock(Protocol):
    """Local wall-clock time, and a way to wait."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The machine's local time (naive) and asyncio.sleep."""

    def now(self) -> datetime:
        return datetime.now()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class NightlyBackups:
    """Back up once a day at `run_at` local time into `folder`, then prune old archives."""

    def __init__(
        self,
        *,
        db_url: str | URL,
        data_dir: Path,
        folder: Path,
        run_at: str = "03:00",
        keep_daily: int = 7,
        keep_weekly: int = 4,
        clock: Clock | None = None,
    ) -> None:
        if keep_daily < 0 or keep_weekly < 0:
            raise ConfigError("backup retention must not be negative", hint="e.g. keep_daily=7, keep_weekly=4")
        self.db_url, self.data_dir, self.folder = db_url, Path(data_dir), Path(folder)
        self.run_at = parse_run_at(run_at)
        self.keep_daily, self.keep_weekly = keep_daily, keep_weekly
        self.clock: Clock = clock or SystemClock()
        self.last_archive: Path | None = None
        self.last_error: Exception | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop on the running event loop (a second call does nothing)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="nightly-backups")

    async def aclose(self) -> None:
        """Stop the loop; a backup in progress is cancelled (its temp file goes). Idempotent."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def run_once(self) -> Path:
        """One backup now, named by the clock's time, then pruning."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / archive_name(self.clock.now())
        await create_backup(self.db_url, self.data_dir, path)
        removed = await asyncio.to_thread(prune, self.folder, keep_daily=self.keep_daily, keep_weekly=self.keep_weekly)
        log.info("backup written to %s; %d old archives removed", path, len(removed))
        self.last_archive = path
        return path

    async def _loop(self) -> None:
        while True:
            now = self.clock.now()
            await self.clock.sleep((next_run(now, self.run_at) - now).total_seconds())
            try:
                await self.run_once()
                self.last_error = None
            except Exception as exc:  # a failed night must not end the nights after it
                self.last_error = exc
                log.exception("nightly backup into %s failed", self.folder)
