"""Avatars: consent is required and recorded; create, read, list, edit; the OpenAPI schema."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.db.models import Avatar, utcnow

from .conftest import Client, Login
from .helpers import AVATAR, table_counts


async def test_create_records_relationship_and_consent_time(client: Client, engine: AsyncEngine, login: Login) -> None:
    headers = await login()
    before = utcnow()
    response = await client.post("/avatars", json={**AVATAR, "user_name": "pumpkin"}, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["relationship"] == "my grandmother" and body["user_name"] == "pumpkin"
    assert body["primary_photo_id"] is None
    async with AsyncSession(engine) as session:
        row = (await session.scalars(select(Avatar))).one()
    assert row.relationship_to_user == "my grandmother"
    assert row.consent_statement == AVATAR["consent_statement"]
    assert before - timedelta(seconds=1) <= row.consent_at <= utcnow() + timedelta(seconds=1)
    assert datetime.fromisoformat(body["consent_at"]).replace(tzinfo=None) == row.consent_at


async def test_consent_and_relationship_are_required(client: Client, engine: AsyncEngine, login: Login) -> None:
    headers = await login()
    before = await table_counts(engine)
    cases = [
        ({**AVATAR, "consent": False}, 400, "consent is required"),
        ({k: v for k, v in AVATAR.items() if k != "consent"}, 400, "consent is required"),
        ({k: v for k, v in AVATAR.items() if k != "relationship"}, 400, "relationship"),
        ({**AVATAR, "relationship": "   "}, 400, "relationship"),
        ({k: v for k, v in AVATAR.items() if k != "consent_statement"}, 400, "consent_statement"),
        ({**AVATAR, "consent": "yes"}, 400, "consent"),
        ({**AVATAR, "owner_id": 2}, 400, "unknown field"),
    ]
    for body, status, words in cases:
        response = await client.post("/avatars", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        assert words in response.json()["error"], response.json()
    assert await table_counts(engine) == before


async def test_read_list_update(client: Client, login: Login) -> None:
    headers = await login()
    first = (await client.post("/avatars", json=AVATAR, headers=headers)).json()
    second = (await client.post("/avatars", json={**AVATAR, "name": "Grandpa Joe"}, headers=headers)).json()
    listed = await client.get("/avatars", headers=headers)
    assert [a["name"] for a in listed.json()] == ["Grandma Rose", "Grandpa Joe"]

    patched = await client.patch(
        f"/avatars/{first['id']}", json={"name": "Nana", "backends": {"voice": "fake-voice"}}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Nana" and patched.json()["relationship"] == "my grandmother"
    assert patched.json()["backends"] == {"voice": "fake-voice"}
    again = await client.get(f"/avatars/{first['id']}", headers=headers)
    assert again.json()["name"] == "Nana" and again.json()["backends"] == {"voice": "fake-voice"}
    assert (await client.get(f"/avatars/{second['id']}", headers=headers)).json()["name"] == "Grandpa Joe"

    for backends, words in [
        ({"voice": "no-such-voice"}, "no voice backend named"),
        ({"smell": "x"}, "unknown backend kind"),
    ]:
        bad = await client.patch(f"/avatars/{first['id']}", json={"backends": backends}, headers=headers)
        assert bad.status_code == 400 and words in bad.json()["error"]
    bad = await client.patch(f"/avatars/{first['id']}", json={"consent_at": "2020-01-01"}, headers=headers)
    assert bad.status_code == 400 and "unknown field" in bad.json()["error"]
    assert (await client.get(f"/avatars/{first['id']}", headers=headers)).json()["backends"] == {"voice": "fake-voice"}


async def test_unknown_avatar_is_404(client: Client, login: Login) -> None:
    headers = await login()
    response = await client.get("/avatars/999", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"error": "no avatar 999", "hint": None}


async def test_openapi_schema_is_served(client: Client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert "/avatars/{avatar_id}/photos" in spec["paths"]
    assert "/auth/login" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
