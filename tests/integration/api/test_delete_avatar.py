"""Deleting an avatar removes its rows in every table and every file it owns, and nothing else."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.models import Base

from .conftest import Client, Login
from .helpers import files_under, populate, table_counts, table_rows


async def _rows_mentioning(engine: AsyncEngine, avatar_id: int) -> dict[str, int]:
    """Rows that point at the avatar directly (avatar_id) or through a conversation."""
    found: dict[str, int] = {}
    async with engine.connect() as conn:
        conversations = [
            r[0]
            for r in await conn.execute(
                select(Base.metadata.tables["conversations"].c.id).where(
                    Base.metadata.tables["conversations"].c.avatar_id == avatar_id
                )
            )
        ]
        for table in Base.metadata.sorted_tables:
            column = table.c.get("avatar_id") if table.name != "avatars" else table.c.id
            if column is not None:
                found[table.name] = len((await conn.execute(select(table).where(column == avatar_id))).all())
            if "conversation_id" in table.c and conversations:
                found[table.name] = found.get(table.name, 0) + len(
                    (await conn.execute(select(table).where(table.c.conversation_id.in_(conversations)))).all()
                )
    return found


async def test_delete_removes_every_row_and_file(
    client: Client, engine: AsyncEngine, login: Login, data_dir: Path
) -> None:
    ann = await login()
    doomed = await populate(client, engine, data_dir, ann)
    kept = await populate(client, engine, data_dir, ann)
    bob = await login("bob@example.org")
    bobs = await populate(client, engine, data_dir, bob)
    assert all(n > 0 for n in (await _rows_mentioning(engine, doomed["avatar_id"])).values())
    others_before = {
        k: v for k, v in files_under(data_dir).items() if not k.startswith(f"avatars/{doomed['avatar_id']}/")
    }
    others_before = {
        k: v for k, v in others_before.items() if not k.startswith(f"cache/renders/{doomed['avatar_id']}-")
    }
    counts_before = await table_counts(engine)

    response = await client.delete(f"/avatars/{doomed['avatar_id']}", headers=ann)
    assert response.status_code == 204, response.text

    assert set((await _rows_mentioning(engine, doomed["avatar_id"])).values()) == {0}
    assert not (data_dir / "avatars" / str(doomed["avatar_id"])).exists()
    assert files_under(data_dir) == others_before  # the render outside the folder is gone too; others stay
    counts_after = await table_counts(engine)
    assert counts_after["users"] == counts_before["users"] and counts_after["api_tokens"] == counts_before["api_tokens"]
    for other in (kept, bobs):
        assert all(n > 0 for n in (await _rows_mentioning(engine, other["avatar_id"])).values())
    assert (await client.get(f"/avatars/{doomed['avatar_id']}", headers=ann)).status_code == 404
    assert (
        await client.get(f"/avatars/{kept['avatar_id']}/photos/{kept['photo_id']}/file", headers=ann)
    ).status_code == 200
    rows = await table_rows(engine)
    assert len(rows["avatars"]) == 2
