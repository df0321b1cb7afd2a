"""Delete an avatar and every row that hangs off it, found from the schema's foreign keys.

Walking the foreign keys (rather than listing tables by hand) means a table added later, such as a
new kind of recording, is removed too; it also does not rely on the database enforcing ON DELETE
CASCADE (SQLite only does when a pragma is set). File paths in those rows are returned so the
caller can remove the files after the commit.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, String, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Avatar, Base


def _is_path_column(name: str, type_: object) -> bool:
    return isinstance(type_, String) and (name == "path" or name.endswith("_path"))


async def delete_avatar_rows(session: AsyncSession, avatar_id: int) -> list[str]:
    """Delete the avatar and its dependants; returns the file paths those rows referenced."""
    avatars = Base.metadata.tables[Avatar.__tablename__]
    paths: list[str] = []
    await _delete_where(session, avatars, avatars.c.id == avatar_id, paths, seen=set())
    session.expunge_all()  # the ORM's copies of deleted rows must not be flushed again
    return paths


async def _delete_where(
    session: AsyncSession, table: Table, where: ColumnElement[bool], paths: list[str], seen: set[str]
) -> None:
    seen = seen | {table.name}
    for child in Base.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table and child.name not in seen:
                child_where = fk.parent.in_(select(fk.column).where(where))
                await _delete_where(session, child, child_where, paths, seen)
    for column in table.columns:
        if _is_path_column(column.name, column.type):
            paths.extend(p for p in await session.scalars(select(column).where(where)) if p)
    await session.execute(delete(table).where(where))
