"""A consistent logical dump of every table, one JSON Lines file each.

Consistent while the server writes: SQLite is first copied with its online backup API (one
snapshot, WAL or rollback journal alike) and dumped from the copy; MySQL/MariaDB is read in a
single REPEATABLE READ transaction started WITH CONSISTENT SNAPSHOT.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Table, select, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import NullPool

from server.backup.errors import BackupError
from server.backup.manifest import TableDump, table_entry
from server.backup.values import encode, kind_of
from server.db.engine import make_engine, parse_url
from server.db.models import Base
from server.db.testing import sqlite_url

Progress = Callable[[str, int, int], None]  # (stage, done, total)
BATCH_ROWS = 500


@dataclass
class Dump:
    """What dumping produced: the table entries (files in `folder`) and the paths rows point at."""

    tables: list[TableDump] = field(default_factory=list)
    references: set[str] = field(default_factory=set)


async def dump_database(url: str | URL, folder: Path, *, progress: Progress | None = None) -> Dump:
    """Write `<folder>/db/<table>.jsonl` for every table of the models, from one snapshot."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        copy = folder / "snapshot.db"
        await asyncio.to_thread(_sqlite_snapshot, _sqlite_path(parsed), copy)
        parsed = parse_url(sqlite_url(copy))
    engine = make_engine(parsed, poolclass=NullPool)
    dump = Dump()
    tables = Base.metadata.sorted_tables  # parents first
    try:
        async with engine.connect() as connection:
            if connection.dialect.name in ("mysql", "mariadb"):
                connection = await connection.execution_options(isolation_level="REPEATABLE READ")
                await connection.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT")
            for done, table in enumerate(tables):
                if progress:
                    progress(f"table {table.name}", done, len(tables))
                dump.tables.append(await _dump_table(connection, table, folder, dump.references))
            await connection.rollback()
    finally:
        await engine.dispose()
    if progress:
        progress("tables", len(tables), len(tables))
    return dump


async def _dump_table(connection: AsyncConnection, table: Table, folder: Path, references: set[str]) -> TableDump:
    columns = {str(c.name): kind_of(c.type, where=f"{table.name}.{c.name}") for c in table.columns}
    path_columns = [name for name, kind in columns.items() if kind == "str" and _is_path_column(name)]
    id_column = table.autoincrement_column
    entry = table_entry(table.name)
    target = folder / entry
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size, rows, top = hashlib.sha256(), 0, 0, 0
    result = await connection.stream(select(table).order_by(*table.primary_key.columns))
    with target.open("wb") as handle:
        async for batch in result.mappings().partitions(BATCH_ROWS):
            lines = []
            for row in batch:
                record = {name: encode(kind, row[name]) for name, kind in columns.items()}
                references.update(row[name] for name in path_columns if row[name])
                if id_column is not None:
                    top = max(top, int(row[id_column.name]))
                lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            data = "".join(lines).encode("utf-8")
            handle.write(data)
            digest.update(data)
            size, rows = size + len(data), rows + len(batch)
    next_id = None
    if id_column is not None:
        next_id = max(top + 1, await _counter(connection, table.name) or 1)
    return TableDump(
        name=str(table.name),
        entry=entry,
        rows=rows,
        size=size,
        sha256=digest.hexdigest(),
        columns=columns,
        id_column=str(id_column.name) if id_column is not None else None,
        next_id=next_id,
    )


async def _counter(connection: AsyncConnection, table: str) -> int | None:
    """The next id the database itself would hand out (deleted ids above the max included)."""
    if connection.dialect.name == "sqlite":
        exists = await connection.scalar(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"))
        if not exists:
            return None
        seq = await connection.scalar(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table})
        return None if seq is None else int(seq) + 1
    value = await connection.scalar(
        text(
            "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t"
        ),
        {"t": table},
    )
    return None if value is None else int(value)


def _is_path_column(name: str) -> bool:
    # Files are referenced by data-relative paths in `path` / `*_path` columns (server/db/models.py).
    return name == "path" or name.endswith("_path")


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"cannot back up the SQLite database {database or ':memory:'!r}", hint="use a file database")
    path = Path(database).expanduser()
    if not path.is_file():
        raise BackupError(f"there is no database at {path}", hint="check DATABASE_URL / MEMORIA_DATA_DIR")
    return path


def _sqlite_snapshot(source: Path, copy: Path) -> None:
    """Copy a live SQLite database page by page in one step (a consistent snapshot)."""
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)  # pages=-1: the whole database under one read lock
        finally:
            dst.close()
    finally:
        src.close()
