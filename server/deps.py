"""Dependencies every route handler can ask for by name: `db_session`, `current_user`,
`settings`, `registry`, `storage`, `bearer_token`."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import User
from server.domain.accounts import user_for_token
from server.errors import NotAuthenticated
from server.registry import Registry
from server.settings import Settings
from server.storage import Storage


async def provide_db_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    """One session per request: committed if the handler succeeds, rolled back if anything raises."""
    async with state.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


def provide_bearer_token(request: Request[Any, Any, Any]) -> str:
    """The token from `Authorization: Bearer <token>`; 401 if there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated(
            "log in first: send `Authorization: Bearer <token>`", hint="POST /auth/login gives a token"
        )
    return token


async def provide_current_user(db_session: NamedDependency[AsyncSession], bearer_token: NamedDependency[str]) -> User:
    """The user behind the bearer token; 401 if it is unknown or expired."""
    return await user_for_token(db_session, bearer_token)


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_registry(state: State) -> Registry:
    registry: Registry = state.registry
    return registry


def provide_storage(state: State) -> Storage:
    storage: Storage = state.storage
    return storage


# What handlers write in their signatures: `db_session: DbSession, current_user: CurrentUser`.
DbSession = NamedDependency[AsyncSession]
CurrentUser = NamedDependency[User]
BearerToken = NamedDependency[str]
AppSettings = NamedDependency[Settings]
AppRegistry = NamedDependency[Registry]
AppStorage = NamedDependency[Storage]

DEPENDENCIES: dict[str, Provide] = {
    "db_session": Provide(provide_db_session),
    "bearer_token": Provide(provide_bearer_token, sync_to_thread=False),
    "current_user": Provide(provide_current_user),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "registry": Provide(provide_registry, sync_to_thread=False),
    "storage": Provide(provide_storage, sync_to_thread=False),
}
