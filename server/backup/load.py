"""Rows from an archive into a database at the archive's revision, and the id counters after them."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, MetaData, Table, func, select, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import NullPool

from server.backup.archive import Progress, open_entry
from server.backup.errors import ArchiveInvalid, BackupError
from server.backup.manifest import Manifest, TableDump
from server.backup.values import decode
from server.db.engine import make_engine

BATCH_ROWS = 500


async def load_rows(archive: Path, manifest: Manifest, url: str | URL, *, progress: Progress | None = None) -> None:
    """Insert every dumped row, ids kept, parents first, in one transaction (all or nothing)."""
    total = sum(table.rows for table in manifest.tables)
    done = 0
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:  # one transaction: rolled back on any error
            tables = await connection.run_sync(_reflect, [table.name for table in manifest.tables])
            with tarfile.open(archive, "r:") as tar:
                for dump in manifest.tables:
                    done = await _insert_table(connection, tar, tables[dump.name], dump, done, total, progress)
    finally:
        await engine.dispose()


async def set_counters(url: str | URL, manifest: Manifest) -> None:
    """Make each table hand out ids after the source's: never an id the source already used."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(_reflect, [table.name for table in manifest.tables])
            for dump in manifest.tables:
                if dump.id_column is None or dump.next_id is None:
                    continue
                table = tables[dump.name]
                top = await connection.scalar(select(func.max(table.c[dump.id_column])))
                await _set_counter(connection, table, max(dump.next_id, int(top or 0) + 1))
            await connection.commit()
    finally:
        await engine.dispose()


async def delete_rows(url: str | URL, manifest: Manifest) -> None:
    """Remove every row of the archive's tables, children first: undo a restore that failed later on."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            tables = await connection.run_sync(_reflect, [table.name for table in manifest.tables])
            for dump in reversed(manifest.tables):
                await connection.execute(tables[dump.name].delete())
    finally:
        await engine.dispose()


async def _insert_table(
    connection: AsyncConnection,
    tar: tarfile.TarFile,
    table: Table,
    dump: TableDump,
    done: int,
    total: int,
    progress: Progress | None,
) -> int:
    missing = [name for name in dump.columns if name not in table.c]
    if missing:
        raise BackupError(
            f"the database has no column {dump.name}.{missing[0]} the backup has",
            hint="restore into an empty database: the restore migrates it to the backup's revision",
        )
    as_text = {name: not isinstance(table.c[name].type, JSON) for name in dump.columns}
    reader = open_entry(tar, dump.entry)
    batch: list[dict[str, Any]] = []
    for line in reader.lines():
        record = json.loads(line)
        batch.append(
            {name: decode(kind, record[name], json_as_text=as_text[name]) for name, kind in dump.columns.items()}
        )
        if len(batch) == BATCH_ROWS:
            await connection.execute(table.insert(), batch)
            done, batch = done + len(batch), []
            if progress:
                progress("rows", done, total)
    if batch:
        await connection.execute(table.insert(), batch)
        done += len(batch)
    if reader.digest.hexdigest() != dump.sha256:  # changed since it was verified
        raise ArchiveInvalid(f"{dump.entry} changed while it was restored", hint="restore again from a copy")
    if progress:
        progress("rows", done, total)
    return done


async def _set_counter(connection: AsyncConnection, table: Table, next_id: int) -> None:
    name = connection.dialect.identifier_preparer.format_table(table)
    if connection.dialect.name in ("mysql", "mariadb"):
        # A DDL statement: MySQL commits implicitly, which is why this runs after the rows' transaction.
        await connection.exec_driver_sql(f"ALTER TABLE {name} AUTO_INCREMENT = {int(next_id)}")
        return
    if connection.dialect.name != "sqlite":
        return
    schema = await connection.scalar(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table.name}
    )
    if "AUTOINCREMENT" not in str(schema or "").upper():
        return  # plain rowid tables hand out max(id) + 1; there is no counter to move
    seq = {"t": table.name, "seq": next_id - 1}
    updated = await connection.execute(text("UPDATE sqlite_sequence SET seq = :seq WHERE name = :t"), seq)
    if updated.rowcount == 0:
        await connection.execute(text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :seq)"), seq)


def _reflect(connection: Connection, names: list[str]) -> dict[str, Table]:
    metadata = MetaData()
    try:
        metadata.reflect(connection, only=names)
    except InvalidRequestError as exc:  # it names the tables the database lacks
        raise BackupError(
            f"the database lacks tables the backup has: {exc}", hint="restore into an empty database"
        ) from exc
    return dict(metadata.tables)
