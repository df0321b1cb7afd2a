"""Regression tests for what an attacker found (each reproduces the finding), on SQLite and MariaDB."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.db.models import ApiToken, AvatarImage, LoginFailure
from server.domain.accounts.throttle import LoginThrottle

from . import samples
from .conftest import Client, Login, MakeAvatar
from .helpers import AVATAR, upload

PAGES = Path(__file__).resolve().parents[3] / "server" / "web" / "static"


async def test_ids_beyond_the_columns_range_are_a_404_not_a_500(client: Client, login: Login) -> None:
    headers = await login()
    for path in (f"/avatars/{2**63}", f"/avatars/{2**31}/photos", f"/calls/{2**63}", f"/avatars/1/memories/{2**40}"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, (path, response.text)
    listed = await client.get("/calls", params={"before": 2**63}, headers=headers)
    assert listed.status_code == 200 and listed.json() == []


async def test_unparseable_bodies_are_a_400(client: Client, login: Login) -> None:
    headers = {**await login(), "Content-Type": "application/json"}
    deep = "[" * 100_000 + "]" * 100_000
    for body in (deep.encode(), b'{"name": "\xff\xfe"}', b'{"name": '):
        response = await client.post("/avatars", content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert set(response.json()) == {"error", "hint"}


async def test_loose_types_are_refused(client: Client, login: Login) -> None:
    headers = await login()
    for consent in ("true", "1", 1):
        refused = await client.post("/avatars", json={**AVATAR, "consent": consent}, headers=headers)
        assert refused.status_code == 400, consent
        assert "consent" in refused.json()["error"]
    as_text = await client.post(
        "/avatars", content=json.dumps(AVATAR), headers={**headers, "Content-Type": "text/plain"}
    )
    assert as_text.status_code == 415
    avatar = (await client.post("/avatars", json=AVATAR, headers=headers)).json()["id"]
    for rating in ("5", 4.0):
        assert (
            await client.post(f"/calls/{avatar}/rating", json={"rating": rating}, headers=headers)
        ).status_code == 400


@pytest.mark.parametrize(
    "name",
    ["   ", "Ro\x00se", "Rose\x07", "Rose\u202eesoR", "\u2066Rose"],
    ids=["spaces", "nul", "bell", "rtl-override", "isolate"],
)
async def test_names_that_cannot_be_stored_are_refused(client: Client, login: Login, name: str) -> None:
    headers = await login()
    response = await client.post("/avatars", json={**AVATAR, "name": name}, headers=headers)
    assert response.status_code == 400, response.text
    memory_avatar = (await client.post("/avatars", json=AVATAR, headers=headers)).json()["id"]
    memory = await client.post(f"/avatars/{memory_avatar}/memories", json={"text": f"We {name} met"}, headers=headers)
    assert memory.status_code == (201 if name == "   " else 400)


async def test_text_keeps_emoji_joiners_and_new_lines(client: Client, login: Login) -> None:
    headers = await login()
    avatar = (await client.post("/avatars", json={**AVATAR, "name": "Nana 👩‍👧"}, headers=headers)).json()
    assert avatar["name"] == "Nana 👩‍👧"
    memory = await client.post(
        f"/avatars/{avatar['id']}/memories", json={"text": "line one\nline two"}, headers=headers
    )
    assert memory.json()["text"] == "line one\nline two"


@pytest.mark.parametrize("password", ["password", "        ", "aaaaaaaaaa", "12345678", "ann@example.org"])
async def test_weak_passwords_are_refused(client: Client, password: str) -> None:
    response = await client.post("/auth/register", json={"email": "ann@example.org", "password": password})
    assert response.status_code == 400, response.text


async def test_registering_says_the_same_whether_or_not_the_account_exists(client: Client) -> None:
    body = {"email": "ann@example.org", "password": "correct horse"}
    first = await client.post("/auth/register", json=body)
    again = await client.post("/auth/register", json={**body, "password": "another battery"})
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    login = await client.post("/auth/login", json=body)
    assert login.status_code == 200  # the first registration stands; the second changed nothing


async def test_another_users_call_looks_like_no_call(client: Client, login: Login, make_avatar: MakeAvatar) -> None:
    ann, bob = await login("ann@example.org"), await login("bob@example.org")
    await make_avatar(ann)
    missing = await client.post("/calls/999999/end", headers=bob)
    assert missing.status_code == 404
    assert missing.json()["error"] == "no call 999999"


async def test_ten_concurrent_first_photos_give_one_primary(
    client: Client, login: Login, make_avatar: MakeAvatar, engine: AsyncEngine
) -> None:
    headers = await login()
    avatar = await make_avatar(headers)
    photo = samples.face_jpeg()
    answers = await asyncio.gather(
        *(client.post(f"/avatars/{avatar}/photos", headers=headers, **upload(f"{i}.jpg", photo)) for i in range(10))
    )
    assert [r.status_code for r in answers] == [201] * 10
    async with AsyncSession(engine) as session:
        primaries = await session.scalar(
            select(func.count()).select_from(AvatarImage).where(AvatarImage.is_primary.is_(True))
        )
    assert primaries == 1


async def test_every_response_carries_the_security_headers(client: Client, login: Login) -> None:
    headers = await login()
    for response in (
        await client.get("/app/"),
        await client.get("/avatars", headers=headers),
        await client.get("/nope"),
    ):
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "camera=(self)" in response.headers["permissions-policy"]


def test_the_web_app_has_no_inline_script_or_style() -> None:
    for page in PAGES.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script>" not in html and '<script type="module">' not in html, page.name
        assert " style=" not in html and "<style" not in html and " onclick=" not in html, page.name


async def test_the_web_session_is_an_httponly_cookie_with_csrf(app: Litestar) -> None:
    async with AsyncTestClient(app=app, base_url="https://memoria.test") as browser:  # Secure cookies need https
        await _cookie_session_round_trip(browser)


async def _cookie_session_round_trip(client: Client) -> None:
    body = {"email": "ann@example.org", "password": "correct horse"}
    await client.post("/auth/register", json=body)
    started = await client.post("/auth/session", json=body)
    assert started.status_code == 200 and "token" not in started.text
    cookies = "\n".join(started.headers.get_list("set-cookie"))
    session_cookie = next(c for c in started.headers.get_list("set-cookie") if c.startswith("memoria_session="))
    assert "HttpOnly" in session_cookie and "Secure" in session_cookie and "samesite=strict" in session_cookie.lower()
    assert "memoria_csrf=" in cookies
    csrf = client.cookies.get("memoria_csrf")
    assert (await client.get("/auth/me")).status_code == 200  # a read needs only the cookie
    forged = await client.post("/avatars", json=AVATAR)  # a cross-site form cannot send the header
    assert forged.status_code == 403
    made = await client.post("/avatars", json=AVATAR, headers={"X-CSRF-Token": csrf or ""})
    assert made.status_code == 201
    ended = await client.delete("/auth/session", headers={"X-CSRF-Token": csrf or ""})
    assert ended.status_code == 204
    client.cookies.set("memoria_session", session_cookie.split(";")[0].split("=", 1)[1])
    assert (await client.get("/auth/me")).status_code == 401  # the token itself is gone


async def test_log_out_everywhere(client: Client, login: Login, engine: AsyncEngine) -> None:
    phone, laptop = await login(), await login()
    response = await client.post("/auth/logout-everywhere", headers=phone)
    assert response.status_code == 200 and response.json()["signed_out"] == 2
    assert (await client.get("/auth/me", headers=laptop)).status_code == 401
    async with AsyncSession(engine) as session:
        assert await session.scalar(select(func.count()).select_from(ApiToken)) == 0


async def test_x_forwarded_for_does_not_get_around_the_login_limit(app: Litestar, client: Client, login: Login) -> None:
    throttle: LoginThrottle = app.state.runtime.login_throttle
    throttle.limits["pair"] = 3
    await login("ann@example.org", "the right one")
    wrong = {"email": "ann@example.org", "password": "a wrong guess"}
    for n in range(6):
        spoofed = {"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"}
        status = (await client.post("/auth/login", json=wrong, headers=spoofed)).status_code
        assert status == (401 if n < 3 else 429)


async def test_one_address_cannot_lock_an_account_out_of_another(
    app: Litestar, client: Client, login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttle: LoginThrottle = app.state.runtime.login_throttle
    throttle.limits["pair"] = 3
    await login("ann@example.org", "the right one")
    wrong = {"email": "ann@example.org", "password": "a wrong guess"}
    for _ in range(4):
        await client.post("/auth/login", json=wrong)
    assert (await client.post("/auth/login", json={**wrong, "password": "the right one"})).status_code == 429
    monkeypatch.setattr(
        "server.domain.accounts.controllers._address", lambda request: "192.0.2.77"
    )  # Ann at home, another address
    assert (await client.post("/auth/login", json={**wrong, "password": "the right one"})).status_code == 200


async def test_login_failures_survive_a_restart(
    app: Litestar, client: Client, login: Login, engine: AsyncEngine
) -> None:
    await login("ann@example.org", "the right one")
    wrong = {"email": "ann@example.org", "password": "a wrong guess"}
    for _ in range(3):
        await client.post("/auth/login", json=wrong)
    async with AsyncSession(engine) as session:
        stored = await session.scalar(select(func.count()).select_from(LoginFailure))
    assert stored == 9  # per pair, per address, per account: in the database, not in memory
    async with AsyncSession(engine) as session:
        keys = list(await session.scalars(select(LoginFailure.key)))
    assert all("ann" not in key and "@" not in key for key in keys)  # hashed: no emails or addresses kept
