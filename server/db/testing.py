"""Throw-away databases for tests and benchmarks: an SQLite file, or a database of its own on a
MySQL/MariaDB server, optionally migrated to head.

Only databases named `memoria_test_*` are ever created or dropped, so pointing this at a real
server cannot touch anyone's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from server.db.engine import make_engine, parse_url, upgrade
from server.db.models import Base

TEST_DATABASE_PREFIX = "memoria_test_"
MYSQL_URL_ENV = "MEMORIA_TEST_MYSQL_URL"  # set by ./scripts/test; always set in CI


def mysql_server_url() -> str | None:
    """The MariaDB/MySQL server tests may create `memoria_test_*` databases on, if one is configured."""
    return os.environ.get(MYSQL_URL_ENV) or None


def sqlite_url(path: Path) -> str:
    """The async URL of an SQLite file."""
    return f"sqlite+aiosqlite:///{path.resolve().as_posix()}"


async def create_mysql_database(server_url: str | URL) -> str:
    """Create an empty utf8mb4 database with a fresh `memoria_test_*` name; return its URL."""
    name = f"{TEST_DATABASE_PREFIX}{uuid.uuid4().hex[:12]}"
    await _on_server(server_url, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    return parse_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_mysql_database(url: str | URL) -> None:
    """Drop a database made by create_mysql_database (and nothing else)."""
    name = parse_url(url).database or ""
    if not name.startswith(TEST_DATABASE_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: only {TEST_DATABASE_PREFIX}* databases are ours")
    await _on_server(url, f"DROP DATABASE IF EXISTS `{name}`")


async def delete_all_rows(url: str | URL) -> None:
    """Empty every table of the models, children first, keeping the schema."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())
    finally:
        await engine.dispose()


@asynccontextmanager
async def temporary_database(
    folder: Path, *, mysql_url: str | None = None, migrated: bool = True
) -> AsyncIterator[str]:
    """Yield the URL of a database of one's own: an SQLite file in `folder`, or a new database on the
    server of `mysql_url`; at head when `migrated`. A MySQL database is dropped afterwards."""
    if mysql_url is None:
        url = sqlite_url(folder / f"{uuid.uuid4().hex[:8]}.db")
        if migrated:
            await upgrade(url)
        yield url
        return
    url = await create_mysql_database(mysql_url)
    try:
        if migrated:
            await upgrade(url)
        yield url
    finally:
        await drop_mysql_database(url)


async def _on_server(url: str | URL, statement: str) -> None:
    # Connect without selecting a database: the one in the URL may not exist (yet, or any more).
    engine = make_engine(parse_url(url).set(database=None), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()
