"""Loaded backends kept between calls and jobs, so a model loads once per process, not once per use.

`async with pool.borrow(VoiceBackend, "piper") as voice:` gives a loaded backend that no one else
uses until it is given back. A backend that raised while borrowed is closed, not handed to the next
user; errors while closing are logged, never hidden. Concurrent users get instances of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar, cast

from server.backends import BASE_CLASS, Backend, BackendKind
from server.registry import Registry

log = logging.getLogger(__name__)
B = TypeVar("B", bound=Backend)
KIND_OF: dict[type[Backend], BackendKind] = {cls: kind for kind, cls in BASE_CLASS.items()}
MAX_IDLE = 4  # loaded instances kept per backend; more are closed when given back


class BackendPool:
    """One pool per process (see server.runtime); closed once, at shutdown."""

    def __init__(self, registry: Registry, *, max_idle: int = MAX_IDLE) -> None:
        self.registry = registry
        self.max_idle = max_idle
        self.idle: dict[tuple[BackendKind, str], list[Backend]] = {}
        self.lent = 0
        self.closed = False

    @asynccontextmanager
    async def borrow(self, kind: type[B] | BackendKind, name: str | None = None) -> AsyncIterator[B]:
        """A loaded backend of `kind` (a base class or a BackendKind) named `name` (default: the registry's)."""
        backend = await self.take(kind, name)
        failed = True
        try:
            yield backend
            failed = False
        except (asyncio.CancelledError, GeneratorExit):
            failed = False  # cancelled by its user, not broken: streams are cancellable by contract
            raise
        finally:
            await self.give_back(backend, failed=failed)

    async def take(self, kind: type[B] | BackendKind, name: str | None = None) -> B:
        """A loaded backend for a user who gives it back with `give_back` (calls hold theirs a while)."""
        if self.closed:
            raise RuntimeError("the backend pool is closed")
        backend_kind = kind if isinstance(kind, BackendKind) else KIND_OF[kind]
        name = name or self.registry.resolve(backend_kind)
        stack = self.idle.get((backend_kind, name))
        backend = stack.pop() if stack else self.registry.create(backend_kind, name)
        self.lent += 1
        try:
            await backend.load()  # a pooled backend is loaded already: load() returns at once
        except BaseException:
            await self.give_back(backend, failed=True)
            raise
        return cast(B, backend)

    async def give_back(self, backend: Backend, *, failed: bool = False) -> None:
        """Keep a healthy backend for the next user; close one that failed (or when the pool is closed)."""
        self.lent -= 1
        key = (backend.info.kind, backend.info.name)
        stack = self.idle.setdefault(key, [])
        if failed or backend.closed or self.closed or len(stack) >= self.max_idle:
            if failed:
                log.warning("%s backend %r failed while in use: closed, not reused", *key)
            await close_backend(backend)
            return
        stack.append(backend)

    async def aclose(self) -> None:
        """Close every idle backend; backends given back later are closed then. Idempotent."""
        self.closed = True
        idle, self.idle = self.idle, {}
        for stack in idle.values():
            for backend in stack:
                await close_backend(backend)


async def close_backend(backend: Backend) -> None:
    """`aclose()` a backend; an error is logged with the backend's name and does not propagate."""
    try:
        await backend.aclose()
    except Exception:
        log.exception("closing %s backend %r failed", backend.info.kind, backend.info.name)
