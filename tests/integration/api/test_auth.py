"""Accounts: register, log in, log out, tokens that expire, and what a bad request gets back."""

from __future__ import annotations

from datetime import datetime, timedelta

from litestar import Litestar
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.models import ApiToken, User, utcnow
from server.domain.accounts.security import token_digest
from server.domain.accounts.throttle import LoginThrottle

from .conftest import Client, Login
from .helpers import table_counts


async def test_register_login_me_logout(client: Client, engine: AsyncEngine) -> None:
    created = await client.post(
        "/auth/register", json={"email": "Ann@Example.org ", "password": "s3cret-pass", "display_name": "Ann"}
    )
    assert created.status_code == 202, created.text
    assert "password" not in created.text

    bad = await client.post("/auth/login", json={"email": "ann@example.org", "password": "wrong-password"})
    assert bad.status_code == 401
    assert bad.json()["error"] == "wrong email or password"

    login = await client.post("/auth/login", json={"email": "ANN@example.org", "password": "s3cret-pass"})
    assert login.status_code == 200, login.text
    token = login.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    async with engine.connect() as conn:
        stored = (await conn.execute(select(User.password_hash))).scalar_one()
        hashes = (await conn.execute(select(ApiToken.token_hash))).scalars().all()
    assert stored.startswith("scrypt$") and "s3cret-pass" not in stored
    assert hashes == [token_digest(token)]  # only the digest is kept, never the token

    me = await client.get("/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["display_name"] == "Ann"
    assert me.json()["email"] == "ann@example.org"

    out = await client.post("/auth/logout", headers=headers)
    assert out.status_code == 204
    after = await client.get("/auth/me", headers=headers)
    assert after.status_code == 401
    assert after.headers["www-authenticate"] == "Bearer"


async def test_expired_token_is_refused(client: Client, engine: AsyncEngine, login: Login) -> None:
    headers = await login()
    assert (await client.get("/avatars", headers=headers)).status_code == 200
    async with engine.begin() as conn:
        await conn.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = await client.get("/avatars", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "the token has expired", "hint": "log in again"}


async def test_missing_or_forged_token(client: Client) -> None:
    none = await client.get("/auth/me")
    assert none.status_code == 401 and "Bearer" in none.json()["error"]
    forged = await client.get("/auth/me", headers={"Authorization": "Bearer not-a-real-token"})
    assert forged.status_code == 401 and forged.json()["error"] == "the token is not valid"
    basic = await client.get("/auth/me", headers={"Authorization": "Basic YW5uOnB3"})
    assert basic.status_code == 401


async def test_bad_registrations_store_nothing(client: Client, engine: AsyncEngine) -> None:
    before = await table_counts(engine)
    cases = [
        ({"email": "ann@example.org", "password": "short"}, "password"),
        ({"email": "not-an-email", "password": "long enough"}, "email"),
        ({"email": "ann@example.org", "password": "long enough", "is_admin": True}, "unknown field"),
        ({"email": "ann@example.org"}, "password"),
    ]
    for body, word in cases:
        response = await client.post("/auth/register", json=body)
        assert response.status_code == 400, (body, response.text)
        assert word in response.json()["error"], response.json()
    not_json = await client.post("/auth/register", content=b"{not json", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert await table_counts(engine) == before


async def test_email_registered_twice_keeps_one_account(client: Client, engine: AsyncEngine) -> None:
    body = {"email": "ann@example.org", "password": "long enough"}
    assert (await client.post("/auth/register", json=body)).status_code == 202
    again = await client.post("/auth/register", json={**body, "email": "ANN@example.org"})
    assert again.status_code == 202  # the same answer as for a new email: existence is not revealed
    assert (await table_counts(engine))["users"] == 1


class FakeClock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


async def test_repeated_failed_logins_are_slowed_down(app: Litestar, client: Client, login: Login) -> None:
    clock = FakeClock()
    throttle: LoginThrottle = app.state.runtime.login_throttle
    throttle.limits["pair"], throttle.window_s, throttle.clock = 3, 60, clock
    await login("ann@example.org", "the right one")
    wrong = {"email": "ann@example.org", "password": "a wrong guess"}
    assert [(await client.post("/auth/login", json=wrong)).status_code for _ in range(3)] == [401, 401, 401]
    refused = await client.post("/auth/login", json={**wrong, "password": "the right one"})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "61"
    assert refused.json() == {"error": "too many failed logins", "hint": "try again in 61 s"}
    other = await client.post("/auth/login", json={"email": "bob@example.org", "password": "whatever1"})
    assert other.status_code == 401  # other accounts are not locked by Ann's failures
    clock.now += timedelta(seconds=61)
    assert (await client.post("/auth/login", json={**wrong, "password": "the right one"})).status_code == 200
