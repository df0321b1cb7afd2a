"""Where a call writes what was said as it is said; the database version is
server.domain.calls.log.DbCallLog, the in-memory one (ad hoc calls, tests) is here."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from server.backends import Role
from server.errors import MemoriaError
from server.media import Emotion


class CallGone(MemoriaError):
    """The call's rows no longer belong to it (its avatar or account was deleted): the call ends."""

    status_code = 410


class CallLog(Protocol):
    """Persists messages during a call and closes the call once; all must survive cancellation."""

    async def add_message(
        self, role: Role, text: str, *, emotion: Emotion | None = None, flags: dict[str, Any] | None = None
    ) -> int: ...

    async def update_message(
        self, message_id: int, text: str, *, emotion: Emotion | None = None, flags: dict[str, Any] | None = None
    ) -> None: ...

    async def delete_message(self, message_id: int) -> None: ...

    async def finish(self, *, reason: str) -> None: ...

    async def discard(self) -> None: ...


class LoggedMessage(msgspec.Struct, frozen=True):
    role: Role
    text: str
    emotion: Emotion | None = None
    flags: dict[str, Any] = msgspec.field(default_factory=dict)


class MemoryLog:
    """A CallLog kept in memory: for ad hoc calls from the command line and for tests."""

    def __init__(self) -> None:
        self.rows: dict[int, LoggedMessage] = {}
        self.end_reason: str | None = None
        self.discarded = False
        self._next_id = 1

    @property
    def messages(self) -> list[LoggedMessage]:
        return [self.rows[i] for i in sorted(self.rows)]

    @property
    def exchanges(self) -> int:
        return sum(1 for m in self.rows.values() if m.role is Role.AVATAR)

    async def add_message(
        self, role: Role, text: str, *, emotion: Emotion | None = None, flags: dict[str, Any] | None = None
    ) -> int:
        message_id, self._next_id = self._next_id, self._next_id + 1
        self.rows[message_id] = LoggedMessage(role, text, emotion, dict(flags or {}))
        return message_id

    async def update_message(
        self, message_id: int, text: str, *, emotion: Emotion | None = None, flags: dict[str, Any] | None = None
    ) -> None:
        role = self.rows[message_id].role
        self.rows[message_id] = LoggedMessage(role, text, emotion, dict(flags or {}))

    async def delete_message(self, message_id: int) -> None:
        self.rows.pop(message_id, None)

    async def finish(self, *, reason: str) -> None:
        if self.end_reason is None:
            self.end_reason = reason

    async def discard(self) -> None:
        self.discarded = True
        await self.finish(reason="failed to start")
