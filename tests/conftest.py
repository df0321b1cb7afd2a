"""Project-wide fixtures: databases on SQLite and, when MEMORIA_TEST_MYSQL_URL is set, MariaDB.

- `db_backend`: "sqlite" or "mysql"; every test that uses a database fixture runs on both.
  (A folder that only wants SQLite overrides `db_backend` in its own conftest.py.)
- `db_url`: an empty database of the test's own (no tables): for migration tests.
- `migrated_db_url`: a database at head with no rows. Do not change its schema: on MySQL one
  migrated database serves the whole session and is emptied before each test.
- `engine`, `session`: an AsyncEngine and an AsyncSession on `migrated_db_url`.
Outside pytest, `server.db.testing.temporary_database` gives the same kinds of database.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.db.engine import make_engine, make_sessionmaker, upgrade
from server.db.testing import (
    MYSQL_URL_ENV,
    create_mysql_database,
    delete_all_rows,
    drop_mysql_database,
    mysql_server_url,
    sqlite_url,
)

NO_MYSQL = f"{MYSQL_URL_ENV} is not set (./scripts/mariadb starts a local MariaDB and prints the URL)"


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def db_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    if backend == "mysql" and mysql_server_url() is None:
        pytest.skip(NO_MYSQL)
    return backend


@pytest.fixture
async def db_url(db_backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database (no tables, not even alembic's)."""
    server = mysql_server_url()
    if db_backend == "sqlite" or server is None:
        yield sqlite_url(tmp_path / "empty.db")
        return
    url = await create_mysql_database(server)
    try:
        yield url
    finally:
        await drop_mysql_database(url)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head; each test gets a copy (much faster than migrating)."""
    path = tmp_path_factory.mktemp("db-template") / "memoria.db"
    asyncio.run(upgrade(sqlite_url(path)))
    return path


@pytest.fixture(scope="session")
def _mysql_migrated() -> Iterator[str]:
    """One MySQL database migrated to head for the session; emptied before each test."""
    server = mysql_server_url()
    assert server is not None

    async def create() -> str:
        url = await create_mysql_database(server)
        await upgrade(url)
        return url

    url = asyncio.run(create())
    yield url
    asyncio.run(drop_mysql_database(url))


@pytest.fixture
def _migrated_source(db_backend: str, request: pytest.FixtureRequest) -> str | Path:
    # Sync on purpose: the session fixtures above call asyncio.run, which cannot nest in a running loop.
    name = "_sqlite_template" if db_backend == "sqlite" else "_mysql_migrated"
    source: str | Path = request.getfixturevalue(name)
    return source


@pytest.fixture
async def migrated_db_url(_migrated_source: str | Path, tmp_path: Path) -> str:
    """A database at head with no rows."""
    if isinstance(_migrated_source, Path):
        path = tmp_path / "memoria.db"
        shutil.copyfile(_migrated_source, path)
        return sqlite_url(path)
    await delete_all_rows(_migrated_source)
    return _migrated_source


@pytest.fixture
async def engine(migrated_db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(migrated_db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with make_sessionmaker(engine)() as session:
        yield session
