"""Migrations on a real database: up, down to nothing, up again, and a schema equal to the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from server.db.engine import current_revision, downgrade, head_revision, make_engine, upgrade
from server.db.models import Base

MODEL_TABLES = set(Base.metadata.tables)


async def _inspect(url: str) -> dict[str, Any]:
    """Tables, indexes and the autogenerate diff against the models, read from the database."""

    def read(connection: Connection) -> dict[str, Any]:
        inspector = inspect(connection)
        tables = set(inspector.get_table_names())
        indexes = {t: {i["name"] for i in inspector.get_indexes(t)} for t in tables & MODEL_TABLES}
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return {"tables": tables, "indexes": indexes, "diff": compare_metadata(context, Base.metadata)}

    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(read)
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_round_trip(db_url: str) -> None:
    assert await current_revision(db_url) is None

    await upgrade(db_url)
    state = await _inspect(db_url)
    assert state["tables"] == MODEL_TABLES | {"alembic_version"}
    assert await current_revision(db_url) == head_revision()

    await downgrade(db_url, "base")
    assert (await _inspect(db_url))["tables"] <= {"alembic_version"}
    assert await current_revision(db_url) is None

    await upgrade(db_url)
    assert (await _inspect(db_url))["tables"] == MODEL_TABLES | {"alembic_version"}
    assert await current_revision(db_url) == head_revision()


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    await upgrade(db_url)
    state = await _inspect(db_url)
    assert state["diff"] == [], "the migrations and server/db/models.py disagree; write a revision"


async def test_lookup_indexes_exist(db_url: str) -> None:
    await upgrade(db_url)
    indexes = (await _inspect(db_url))["indexes"]
    assert "ix_generated_videos_lookup" in indexes["generated_videos"]
    assert "ix_login_failures_key" in indexes["login_failures"]
    for table in ("avatar_images", "voice_samples", "memories", "conversations", "video_calls"):
        assert f"ix_{table}_avatar_id" in indexes[table]


async def test_upgrade_is_idempotent(db_url: str) -> None:
    await upgrade(db_url)
    await upgrade(db_url)
    assert await current_revision(db_url) == head_revision()
