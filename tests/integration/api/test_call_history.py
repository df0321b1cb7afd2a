"""The call history pages back through a long list of calls."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from server.db.models import Conversation, User, VideoCall

from .conftest import Client, Login, MakeAvatar


async def _add_calls(engine: AsyncEngine, email: str, avatar_id: int, count: int) -> list[int]:
    async with async_sessionmaker(engine)() as session:
        user = (await session.scalars(select(User).where(User.email == email))).one()
        calls = []
        for _ in range(count):
            conversation = Conversation(avatar_id=avatar_id, user_id=user.id)
            session.add(conversation)
            await session.flush()
            calls.append(VideoCall(conversation_id=conversation.id, avatar_id=avatar_id, user_id=user.id))
        session.add_all(calls)
        await session.flush()
        ids = [c.id for c in calls]
        await session.commit()
        return ids


async def test_pages_of_calls_newest_first_until_none_are_left(
    client: Client, engine: AsyncEngine, login: Login, make_avatar: MakeAvatar
) -> None:
    headers = await login()
    ids = await _add_calls(engine, "ann@example.org", await make_avatar(headers), 7)
    seen: list[int] = []
    page = (await client.get("/calls", params={"limit": 3}, headers=headers)).json()
    while page:
        assert len(page) <= 3
        seen += [c["id"] for c in page]
        page = (await client.get("/calls", params={"limit": 3, "before": seen[-1]}, headers=headers)).json()
    assert seen == sorted(ids, reverse=True)


async def test_a_page_size_out_of_range_is_refused(client: Client, login: Login) -> None:
    headers = await login()
    for limit in (0, 201, -5):
        response = await client.get("/calls", params={"limit": limit}, headers=headers)
        assert response.status_code == 400 and "limit must be between 1 and 200" in response.json()["error"]
