"""What route handlers ask for by name; everything comes from the app's Runtime (server.runtime).

db_session, current_user, bearer_token, avatar (the caller's avatar of the path's avatar_id),
runtime, settings, registry, storage, calls, media, login_throttle
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Avatar, User
from server.domain.accounts.cookies import token_from_cookie
from server.domain.accounts.services import user_for_token
from server.domain.accounts.throttle import LoginThrottle
from server.domain.avatars.services import owned_avatar
from server.domain.calls.manager import CallManager
from server.domain.media.preparation import MediaPreparer
from server.errors import NotAuthenticated
from server.registry import Registry
from server.runtime import Runtime
from server.settings import Settings
from server.storage import Storage


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


async def provide_db_session(runtime: NamedDependency[Runtime]) -> AsyncGenerator[AsyncSession, None]:
    """One session per request: committed if the handler succeeds, rolled back if anything raises."""
    async with runtime.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


def provide_bearer_token(request: Request[Any, Any, Any]) -> str:
    """The token from `Authorization: Bearer <token>`, else the web app's session cookie (with its
    CSRF check); 401 if there is neither."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        return token
    token = token_from_cookie(request) or ""
    if not token:
        raise NotAuthenticated(
            "log in first: send `Authorization: Bearer <token>`", hint="POST /auth/login gives a token"
        )
    return token


async def provide_current_user(db_session: NamedDependency[AsyncSession], bearer_token: NamedDependency[str]) -> User:
    """The user behind the bearer token; 401 if it is unknown or expired."""
    return await user_for_token(db_session, bearer_token)


async def provide_avatar(
    avatar_id: FromPath[int], db_session: NamedDependency[AsyncSession], current_user: NamedDependency[User]
) -> Avatar:
    """The avatar of the path's `avatar_id` if the caller owns it; 404 otherwise (never says which)."""
    return await owned_avatar(db_session, current_user, avatar_id)


# What handlers write in their signatures: `db_session: DbSession, current_user: CurrentUser`.
DbSession = NamedDependency[AsyncSession]
CurrentUser = NamedDependency[User]
OwnedAvatar = NamedDependency[Avatar]
BearerToken = NamedDependency[str]
AppSettings = NamedDependency[Settings]
AppRuntime = NamedDependency[Runtime]
AppRegistry = NamedDependency[Registry]
AppStorage = NamedDependency[Storage]
Calls = NamedDependency[CallManager]
Media = NamedDependency[MediaPreparer]
Throttle = NamedDependency[LoginThrottle]


def _from_runtime(field: str) -> Provide:
    def provide(runtime: NamedDependency[Runtime]) -> Any:
        return getattr(runtime, field)

    provide.__name__ = f"provide_{field}"
    return Provide(provide, sync_to_thread=False)


DEPENDENCIES: dict[str, Provide] = {
    "runtime": Provide(provide_runtime, sync_to_thread=False),
    "db_session": Provide(provide_db_session),
    "bearer_token": Provide(provide_bearer_token, sync_to_thread=False),
    "current_user": Provide(provide_current_user),
    "avatar": Provide(provide_avatar),
    **{name: _from_runtime(name) for name in ("settings", "registry", "storage", "calls", "media", "login_throttle")},
}
