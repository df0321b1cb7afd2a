"""The avatar's message row for one reply: written as soon as its first sentence is placed and
kept up to date sentence by sentence, so a crash mid-reply still keeps what was being said. The
final text (only what started playing, with its flags) replaces it when the turn ends."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from server.backends import Role
from server.media import Emotion
from server.pipeline.log import CallGone, CallLog

log = logging.getLogger(__name__)
Draft = tuple[str, Emotion | None, dict[str, Any]]


class SpokenReply:
    """`note()` the reply so far (cheap, from sync code); `finish()` once with what was really said."""

    def __init__(self, call_log: CallLog) -> None:
        self.log = call_log
        self.message_id: int | None = None
        self._latest: Draft | None = None
        self._writer: asyncio.Task[None] | None = None

    def note(self, text: str, emotion: Emotion | None) -> None:
        """The reply so far; written in the background (only the newest version, never out of order)."""
        self._latest = (text, emotion, {"speaking": True})
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="spoken-reply")

    async def finish(self, text: str | None, emotion: Emotion | None, flags: dict[str, Any]) -> None:
        """Store the final words (None: nothing reached the user, so no row is kept)."""
        await self._settle()
        if text:
            self._latest = (text, emotion, dict(flags))
            await self._write(raising=True)
        elif self.message_id is not None:
            await self.log.delete_message(self.message_id)
            self.message_id = None

    async def _settle(self) -> None:
        if self._writer is not None:
            await asyncio.wait([self._writer])

    async def _write(self, *, raising: bool = False) -> None:
        while self._latest is not None:
            text, emotion, flags = self._latest
            self._latest = None
            try:
                if self.message_id is None:
                    self.message_id = await self.log.add_message(Role.AVATAR, text, emotion=emotion, flags=flags)
                else:
                    await self.log.update_message(self.message_id, text, emotion=emotion, flags=flags)
            except CallGone:
                raise
            except Exception:
                if raising:
                    raise
                log.warning("could not store the reply so far; it is stored when the reply ends", exc_info=True)
