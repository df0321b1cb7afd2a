"""A live call's writes to the database: the conversation and call rows, each message as it is said.

Every write opens its own short transaction, so a message is committed the moment it is said and
survives whatever happens to the call afterwards. Every write first checks that the call's rows
are still this call's (its conversation belongs to the same user and avatar): a call whose avatar
was deleted stops writing instead of reaching anyone else's rows.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.backends import Role
from server.db.models import Conversation, Message, VideoCall, utcnow
from server.media import Emotion
from server.pipeline.log import CallGone


class CallIds(msgspec.Struct, frozen=True):
    call_id: int
    conversation_id: int
    user_id: int
    avatar_id: int


async def open_call(sessionmaker: async_sessionmaker[AsyncSession], *, user_id: int, avatar_id: int) -> CallIds:
    async with sessionmaker() as session, session.begin():
        conversation = Conversation(avatar_id=avatar_id, user_id=user_id)
        session.add(conversation)
        await session.flush()
        call = VideoCall(conversation_id=conversation.id, avatar_id=avatar_id, user_id=user_id)
        session.add(call)
        await session.flush()
        return CallIds(call.id, conversation.id, user_id, avatar_id)


class DbCallLog:
    """A CallLog on the database: one committed row per utterance, the call row closed once."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], ids: CallIds) -> None:
        self.sessionmaker = sessionmaker
        self.ids = ids
        self.finished = False

    async def _check_owned(self, session: AsyncSession) -> None:
        owner = await session.scalar(
            select(Conversation.id).where(
                Conversation.id == self.ids.conversation_id,
                Conversation.user_id == self.ids.user_id,
                Conversation.avatar_id == self.ids.avatar_id,
            )
        )
        if owner is None:
            raise CallGone(f"call {self.ids.call_id}: its conversation is gone (avatar or account deleted)")

    async def add_message(
        self, role: Role, text: str, *, emotion: Emotion | None = None, flags: dict[str, Any] | None = None
    ) -> int:
        async with self.sessionmaker() as session, session.begin():
            await self._check_owned(session)
            message = Message(
                conversation_id=self.ids.conversation_id,
                role=role.value,
                text=text,
                emotion=emotion.value if emotion else None,
                flags=dict(flags or {}),
            )
            session.add(message)
            if role is Role.AVATAR:
                await session.execute(
                    update(VideoCall)
                    .where(VideoCall.id == self.ids.call_id)
                    .values(total_exchanges=VideoCall.total_exchanges + 1)
                )
            await session.flush()
            return message.id

    async def update_message(
        self, message_id: int, text: str, *, emotion: Emotion | None = None, flags: dict[str, Any] | None = None
    ) -> None:
        async with self.sessionmaker() as session, session.begin():
            await self._check_owned(session)
            await session.execute(
                update(Message)
                .where(Message.id == message_id, Message.conversation_id == self.ids.conversation_id)
                .values(text=text, emotion=emotion.value if emotion else None, flags=dict(flags or {}))
            )

    async def delete_message(self, message_id: int) -> None:
        """A reply that never reached the user: its row goes (and the exchange is not counted)."""
        async with self.sessionmaker() as session, session.begin():
            await self._check_owned(session)
            deleted = await session.execute(
                delete(Message).where(Message.id == message_id, Message.conversation_id == self.ids.conversation_id)
            )
            if getattr(deleted, "rowcount", 0):
                await session.execute(
                    update(VideoCall)
                    .where(VideoCall.id == self.ids.call_id, VideoCall.total_exchanges > 0)
                    .values(total_exchanges=VideoCall.total_exchanges - 1)
                )

    async def finish(self, *, reason: str) -> None:
        if self.finished:
            return
        self.finished = True
        await end_call(self.sessionmaker, self.ids.call_id, reason=reason)

    async def discard(self) -> None:
        """The call never started: its rows go, so it does not show in the user's history."""
        self.finished = True
        async with self.sessionmaker() as session, session.begin():
            said = await session.scalar(select(Message.id).where(Message.conversation_id == self.ids.conversation_id))
            if said is None:
                await session.execute(delete(VideoCall).where(VideoCall.id == self.ids.call_id))
                await session.execute(delete(Conversation).where(Conversation.id == self.ids.conversation_id))
            else:
                await end_call(self.sessionmaker, self.ids.call_id, reason="failed to start")


async def end_call(
    sessionmaker: async_sessionmaker[AsyncSession], call_id: int, *, reason: str, recording_path: str | None = None
) -> None:
    """Set the end time and reason if the call is still open; record the recording's path if given."""
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(VideoCall)
            .where(VideoCall.id == call_id, VideoCall.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason[:64])
        )
        if recording_path is not None:
            await session.execute(
                update(VideoCall).where(VideoCall.id == call_id).values(recording_path=recording_path)
            )


async def close_stale_calls(sessionmaker: async_sessionmaker[AsyncSession], reason: str = "server stopped") -> int:
    """End every call row left open by a crash; run at start-up, before any call can be live."""
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            update(VideoCall).where(VideoCall.ended_at.is_(None)).values(ended_at=utcnow(), end_reason=reason)
        )
        return int(getattr(result, "rowcount", 0) or 0)
