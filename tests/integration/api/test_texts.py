"""Personality and memories: read, write, limits, and unknown fields."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from .conftest import Client, Login, MakeAvatar
from .helpers import table_counts


async def test_personality_starts_empty_and_is_replaced(client: Client, login: Login, make_avatar: MakeAvatar) -> None:
    headers = await login()
    url = f"/avatars/{await make_avatar(headers)}/personality"
    empty = await client.get(url, headers=headers)
    assert empty.status_code == 200
    assert empty.json() == {"personality": "", "speaking_style": "", "example_phrases": [], "updated_at": None}

    body = {
        "personality": "Warm, teasing, proud of her garden.",
        "speaking_style": "short sentences",
        "example_phrases": ["Oh, pumpkin!"],
    }
    put = await client.put(url, json=body, headers=headers)
    assert put.status_code == 200, put.text
    assert {k: put.json()[k] for k in body} == body
    again = await client.put(url, json={"personality": "Calm."}, headers=headers)
    assert again.json()["personality"] == "Calm." and again.json()["example_phrases"] == []
    assert (await client.get(url, headers=headers)).json()["personality"] == "Calm."


async def test_personality_limits(client: Client, engine: AsyncEngine, login: Login, make_avatar: MakeAvatar) -> None:
    headers = await login()
    url = f"/avatars/{await make_avatar(headers)}/personality"
    before = await table_counts(engine)
    too_long = await client.put(url, json={"personality": "x" * 10_001}, headers=headers)
    assert too_long.status_code == 413 and "limit is 10,000" in too_long.json()["error"]
    unknown = await client.put(url, json={"personality": "ok", "mood": "sad"}, headers=headers)
    assert unknown.status_code == 400 and "unknown field" in unknown.json()["error"]
    assert await table_counts(engine) == before


async def test_memories_crud(client: Client, login: Login, make_avatar: MakeAvatar) -> None:
    headers = await login()
    url = f"/avatars/{await make_avatar(headers)}/memories"
    first = await client.post(url, json={"text": "  We baked bread every Sunday.  "}, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["text"] == "We baked bread every Sunday."
    second = (await client.post(url, json={"text": "She called me pumpkin."}, headers=headers)).json()
    assert [m["text"] for m in (await client.get(url, headers=headers)).json()] == [
        "We baked bread every Sunday.",
        "She called me pumpkin.",
    ]

    edited = await client.patch(
        f"{url}/{second['id']}", json={"text": "She always called me pumpkin."}, headers=headers
    )
    assert edited.status_code == 200 and edited.json()["text"] == "She always called me pumpkin."
    assert (await client.get(f"{url}/{second['id']}", headers=headers)).json()[
        "text"
    ] == "She always called me pumpkin."
    assert (await client.delete(f"{url}/{first.json()['id']}", headers=headers)).status_code == 204
    assert [m["id"] for m in (await client.get(url, headers=headers)).json()] == [second["id"]]
    assert (await client.get(f"{url}/{first.json()['id']}", headers=headers)).status_code == 404


async def test_bad_memories_store_nothing(
    client: Client, engine: AsyncEngine, login: Login, make_avatar: MakeAvatar
) -> None:
    headers = await login()
    url = f"/avatars/{await make_avatar(headers)}/memories"
    kept = (await client.post(url, json={"text": "kept"}, headers=headers)).json()
    before = await table_counts(engine)
    cases = [
        ({"text": "m" * 1024 * 1024}, 413, "limit is 10,000"),
        ({"text": "   "}, 400, "empty"),
        ({"text": ""}, 400, "text"),
        ({"text": "ok", "pinned": True}, 400, "unknown field"),
        ({}, 400, "text"),
        ({"text": 42}, 400, "text"),
    ]
    for body, status, words in cases:
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        assert words in response.json()["error"], response.json()
    edit = await client.patch(f"{url}/{kept['id']}", json={"text": "x" * 20_000}, headers=headers)
    assert edit.status_code == 413
    assert await table_counts(engine) == before
    assert (await client.get(f"{url}/{kept['id']}", headers=headers)).json()["text"] == "kept"
