"""The throw-away databases other test folders and benchmarks build on."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from server.db.engine import current_revision, head_revision, make_engine
from server.db.testing import drop_mysql_database, mysql_server_url, temporary_database


async def _databases(server_url: str) -> set[str]:
    engine = make_engine(server_url)
    try:
        async with engine.connect() as connection:
            return set((await connection.scalars(text("SHOW DATABASES"))).all())
    finally:
        await engine.dispose()


async def test_temporary_sqlite_database_is_at_head(tmp_path: Path) -> None:
    async with temporary_database(tmp_path) as url:
        assert await current_revision(url) == head_revision()
    async with temporary_database(tmp_path, migrated=False) as url:
        assert await current_revision(url) is None


@pytest.mark.mysql
async def test_temporary_mysql_database_is_migrated_then_dropped(tmp_path: Path) -> None:
    server = mysql_server_url()
    if server is None:
        pytest.skip("MEMORIA_TEST_MYSQL_URL is not set")
    async with temporary_database(tmp_path, mysql_url=server) as url:
        name = url.rsplit("/", 1)[1].split("?")[0]
        assert name.startswith("memoria_test_")
        assert await current_revision(url) == head_revision()
        assert name in await _databases(server)
    assert name not in await _databases(server)


async def test_only_test_databases_can_be_dropped() -> None:
    with pytest.raises(ValueError, match="refusing"):
        await drop_mysql_database("mysql+aiomysql://u:p@127.0.0.1:1/memoria")
