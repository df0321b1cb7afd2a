"""Calls as the user sees them afterwards: their own calls, with transcripts, and their rating.
(What a live call writes is in server.domain.calls.log.)"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Message, User, VideoCall, possible_id
from server.errors import BadInput, Conflict, NotFound


async def owned_call(session: AsyncSession, user: User, call_id: int) -> VideoCall:
    if not possible_id(call_id):
        raise NotFound(f"no call {call_id}")
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
    if (avatar_id is not None and not possible_id(avatar_id)) or (before is not None and not possible_id(before)):
        return []
    if avatar_id is not None:
        query = query.where(VideoCall.avatar_id == avatar_id)
    if before is not None:
        query = query.where(VideoCall.id < before)
    return list(await session.scalars(query.order_by(VideoCall.id.desc()).limit(limit)))
