"""The database side of calls: the conversation and video_call rows, messages as they are said.

Every write opens its own short transaction, so a message is committed the moment it is said and
survives whatever happens to the call afterwards.
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.backends import Role
from server.db.models import Conversation, Message, User, VideoCall, utcnow
from server.errors import BadInput, Conflict, NotFound
from server.media import Emotion


class CallIds(msgspec.Struct, frozen=True):
    call_id: int
    conversation_id: int


async def open_call(sessionmaker: async_sessionmaker[AsyncSession], *, user_id: int, avatar_id: int) -> CallIds:
    async with sessionmaker() as session, session.begin():
        conversation = Conversation(avatar_id=avatar_id, user_id=user_id)
        session.add(conversation)
        await session.flush()
        call = VideoCall(conversation_id=conversation.id, avatar_id=avatar_id, user_id=user_id)
        session.add(call)
        await session.flush()
        return CallIds(call_id=call.id, conversation_id=conversation.id)


class DbCallLog:
    """A CallLog on the database: one committed row per utterance, the call row closed once."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], ids: CallIds) -> None:
        self.sessionmaker = sessionmaker
        self.ids = ids
        self.finished = False

    async def add_message(
        self, role: Role, text: str, *, emotion: Emotion | None = None, flags: dict[str, Any] | None = None
    ) -> None:
        async with self.sessionmaker() as session, session.begin():
            session.add(
                Message(
                    conversation_id=self.ids.conversation_id,
                    role=role.value,
                    text=text,
                    emotion=emotion.value if emotion else None,
                    flags=dict(flags or {}),
                )
            )
            if role is Role.AVATAR:
                await session.execute(
                    update(VideoCall)
                    .where(VideoCall.id == self.ids.call_id)
                    .values(total_exchanges=VideoCall.total_exchanges + 1)
                )

    async def finish(self, *, reason: str) -> None:
        if self.finished:
            return
        self.finished = True
        await end_call(self.sessionmaker, self.ids.call_id, reason=reason)


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


async def owned_call(session: AsyncSession, user: User, call_id: int) -> VideoCall:
    call = await session.scalar(select(VideoCall).where(VideoCall.id == call_id, VideoCall.user_id == user.id))
    if call is None:
        raise NotFound(f"no call {call_id}")
    return call


async def rate_call(session: AsyncSession, user: User, call_id: int, rating: int) -> VideoCall:
    if not 1 <= rating <= 5:
        raise BadInput("rating must be a whole number from 1 to 5")
    call = await owned_call(session, user, call_id)
    if call.ended_at is None:
        raise Conflict("the call is still going on; rate it after it ends")
    call.user_satisfaction = rating
    await session.flush()
    return call


async def messages_of(session: AsyncSession, conversation_ids: list[int]) -> dict[int, list[Message]]:
    if not conversation_ids:
        return {}
    rows = await session.scalars(
        select(Message).where(Message.conversation_id.in_(conversation_ids)).order_by(Message.id)
    )
    out: dict[int, list[Message]] = {cid: [] for cid in conversation_ids}
    for row in rows:
        out[row.conversation_id].append(row)
    return out


async def list_calls(
    session: AsyncSession, user: User, *, avatar_id: int | None = None, before: int | None = None, limit: int = 50
) -> list[VideoCall]:
    """The user's calls, newest first; `before` (a call id) pages back through older ones."""
    query = select(VideoCall).where(VideoCall.user_id == user.id)
    if avatar_id is not None:
        query = query.where(VideoCall.avatar_id == avatar_id)
    if before is not None:
        query = query.where(VideoCall.id < before)
    return list(await session.scalars(query.order_by(VideoCall.id.desc()).limit(limit)))
