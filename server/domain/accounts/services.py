"""Registering, logging in and out, and finding the user behind a bearer token."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import ApiToken, User, utcnow
from server.domain.accounts import schemas
from server.domain.accounts.passwords import check_password
from server.domain.accounts.security import dummy_hash, hash_password, new_token, token_digest, verify_password
from server.domain.accounts.throttle import LoginThrottle
from server.domain.text import clean_line
from server.errors import NotAuthenticated


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_read(user: User) -> schemas.UserRead:
    return schemas.UserRead(id=user.id, email=user.email, display_name=user.display_name, created_at=user.created_at)


async def register(session: AsyncSession, data: schemas.UserCreate) -> User | None:
    """Create a user; None when the email is already in use. The caller answers the same either
    way (and this takes as long either way), so registering does not tell who has an account."""
    email = clean_line("email", normalise_email(data.email))
    check_password(data.password, email)
    display_name = clean_line("display name", data.display_name, required=False)
    password_hash = await asyncio.to_thread(hash_password, data.password)  # also for a taken email
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        return None
    user = User(email=email, password_hash=password_hash, display_name=display_name)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:  # registered by a parallel request a moment ago
        await session.rollback()
        return None
    return user


async def login(
    session: AsyncSession, data: schemas.LoginRequest, *, ttl_hours: int, throttle: LoginThrottle, address: str
) -> schemas.TokenRead:
    """Check the password and issue a new token; the client sees the token once."""
    email = normalise_email(data.email)
    await throttle.check(email, address)
    user = await session.scalar(select(User).where(User.email == email))
    stored = user.password_hash if user is not None else dummy_hash()
    ok = await asyncio.to_thread(verify_password, data.password, stored)
    if user is None or not ok:
        await throttle.failed(email, address)
        raise NotAuthenticated("wrong email or password")
    await throttle.succeeded(email, address)
    token = new_token()
    expires_at = utcnow() + timedelta(hours=ttl_hours)
    await _drop_expired(session, user.id)
    session.add(ApiToken(user_id=user.id, token_hash=token_digest(token), expires_at=expires_at))
    await session.flush()
    return schemas.TokenRead(token=token, expires_at=expires_at, user=user_read(user))


async def logout(session: AsyncSession, token: str) -> None:
    await session.execute(delete(ApiToken).where(ApiToken.token_hash == token_digest(token)))


async def logout_everywhere(session: AsyncSession, user: User) -> int:
    """Forget every token of the user (every device, every browser); how many there were."""
    result = await session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    return int(getattr(result, "rowcount", 0) or 0)


async def user_for_token(session: AsyncSession, token: str) -> User:
    """The token's user, or NotAuthenticated if the token is unknown or expired."""
    row = (
        await session.execute(
            select(User, ApiToken.expires_at)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == token_digest(token))
        )
    ).first()
    if row is None:
        raise NotAuthenticated("the token is not valid", hint="log in again")
    user, expires_at = row
    if expires_at <= utcnow():
        raise NotAuthenticated("the token has expired", hint="log in again")
    return user


async def _drop_expired(session: AsyncSession, user_id: int) -> None:
    """Tokens accumulate with every login; forget this user's dead ones."""
    await session.execute(delete(ApiToken).where(ApiToken.user_id == user_id, ApiToken.expires_at <= utcnow()))
