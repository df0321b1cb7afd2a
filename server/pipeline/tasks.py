"""Stopping tasks without swallowing our own cancellation."""

from __future__ import annotations

import asyncio


async def cancel_and_wait(task: asyncio.Task[object] | None) -> None:
    """Cancel `task` and wait until it has finished; the caller's own cancellation still propagates."""
    if task is None or task.done():
        return
    task.cancel()
    await asyncio.wait([task])
