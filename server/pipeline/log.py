"""Where a call writes what was said as it is said; the database version lives in server.calls."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from server.backends import Role
from server.media import Emotion


class CallLog(Protocol):
    """Persists messages during a call and closes the call once; both must survive cancellation."""

    async def add_message(
        self, role: Role, text: str, *, emotion: Emotion | None = None, flags: dict[str, Any] | None = None
    ) -> None: ...

    async def finish(self, *, reason: str) -> None: ...


class LoggedMessage(msgspec.Struct, frozen=True):
    role: Role
    text: str
    emotion: Emotion | None = None
    flags: dict[str, Any] = msgspec.field(default_factory=dict)


class MemoryLog:
    """A CallLog kept in memory: for ad hoc calls from the command line and for tests."""

    def __init__(self) -> None:
        self.messages: list[LoggedMessage] = []
        self.end_reason: str | None = None
        self.exchanges = 0

    async def add_message(
        self, role: Role, text: str, *, emotion: Emotion | None = None, flags: dict[str, Any] | None = None
    ) -> None:
        self.messages.append(LoggedMessage(role, text, emotion, dict(flags or {})))
        if role is Role.AVATAR:
            self.exchanges += 1

    async def finish(self, *, reason: str) -> None:
        if self.end_reason is None:
            self.end_reason = reason
