"""The engine: URLs, per-connection setup, and errors that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.db.engine import display_url, make_engine, parse_url, upgrade
from server.db.models import Avatar, User, utcnow
from server.db.testing import sqlite_url
from server.errors import ConfigError

CLOSED_PORT_URL = "mysql+aiomysql://memoria:s3cret@127.0.0.1:1/memoria_test_x"  # nothing listens on port 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/m.db", "sqlite+aiosqlite:///data/m.db"),
        ("sqlite+aiosqlite:///data/m.db", "sqlite+aiosqlite:///data/m.db"),
        ("mysql://u:p@db/m", "mysql+aiomysql://u:p@db/m?charset=utf8mb4"),
        ("mariadb://u:p@db/m", "mysql+aiomysql://u:p@db/m?charset=utf8mb4"),
        ("mysql+aiomysql://u:p@db/m?charset=latin1", "mysql+aiomysql://u:p@db/m?charset=latin1"),
    ],
)
def test_urls_get_async_drivers_and_full_unicode(url: str, expected: str) -> None:
    assert parse_url(url).render_as_string(hide_password=False) == expected


def test_messages_never_show_the_password() -> None:
    shown = display_url("mysql+aiomysql://memoria:s3cret@db/m")
    assert "s3cret" not in shown and "memoria" in shown


@pytest.mark.parametrize("url", ["not a url", "mysql+pymysql://u:p@db/m", "postgresql+nosuchdriver://db/m"])
def test_unusable_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_engine(url)
    assert caught.value.hint


async def test_sqlite_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "memoria.db"
    await upgrade(sqlite_url(path))
    assert path.is_file()


async def test_unreachable_server_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        await upgrade(CLOSED_PORT_URL)
    assert "cannot reach the database" in str(caught.value)
    assert "s3cret" not in str(caught.value)


async def test_unknown_revision_is_a_config_error(db_url: str) -> None:
    with pytest.raises(ConfigError, match="nosuchrevision"):
        await upgrade(db_url, "nosuchrevision")


async def test_foreign_keys_are_enforced(session: AsyncSession) -> None:
    session.add(Avatar(owner_id=4242, name="x", relationship_to_user="x", consent_statement="x", consent_at=utcnow()))
    with pytest.raises(IntegrityError):
        await session.commit()
    await session.rollback()
    assert (await session.scalars(select(User))).all() == []


async def test_connections_are_set_up_per_backend(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert await connection.scalar(text("PRAGMA foreign_keys")) == 1
        else:
            assert await connection.scalar(text("SELECT @@character_set_connection")) == "utf8mb4"
            assert engine.pool._recycle > 0  # idle connections are replaced before the server drops them
