"""`restore_backup`: a verified archive into an empty instance, all or nothing."""

from __future__ import annotations

import asyncio
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import func, inspect, select, table
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

from server.backup.archive import Progress, open_entry, verify_archive
from server.backup.errors import ArchiveInvalid, RestoreRefused
from server.backup.load import delete_rows, load_rows, set_counters
from server.backup.manifest import OWNED_FOLDERS, Manifest
from server.db.engine import alembic_config, current_revision, downgrade, make_engine, upgrade


async def restore_backup(
    archive: Path, db_url: str | URL, data_dir: Path, *, progress: Progress | None = None
) -> Manifest:
    """Restore `archive` into an empty database and data dir; refuses anything else before writing.

    Order: emptiness, the whole archive's checksums, migrate to the archive's revision, files into
    a hidden folder, rows in one transaction, id counters, then one rename makes the files visible.
    A failure after the rows went in deletes them again; the files never appear.
    """
    archive, data_dir = Path(archive), Path(data_dir)
    current = await current_revision(db_url)  # also: a clear error when the database is unreachable
    await _refuse_unless_empty(db_url, data_dir)
    manifest = await asyncio.to_thread(verify_archive, archive, progress=progress)
    script = ScriptDirectory.from_config(alembic_config())
    _check_known(script, manifest.revision)
    await _migrate(db_url, script, current, manifest.revision)
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=".tmp-restore-"))
    try:
        await asyncio.to_thread(_extract_files, archive, manifest, staging, progress)
        await load_rows(archive, manifest, db_url, progress=progress)
        try:
            await set_counters(db_url, manifest)
            _move_into_place(staging, data_dir)
        except BaseException:
            await delete_rows(db_url, manifest)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


async def table_counts(db_url: str | URL) -> dict[str, int]:
    """Rows per table of the database (alembic's own table left out)."""

    def names(connection: Connection) -> list[str]:
        return [name for name in inspect(connection).get_table_names() if name != "alembic_version"]

    engine = make_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            counts: dict[str, int] = {}
            for name in await connection.run_sync(names):
                counts[name] = int(await connection.scalar(select(func.count()).select_from(table(name))) or 0)
            return counts
    finally:
        await engine.dispose()


async def _refuse_unless_empty(db_url: str | URL, data_dir: Path) -> None:
    for folder in OWNED_FOLDERS:
        path = data_dir / folder
        if path.is_dir() and any(path.iterdir()):
            raise RestoreRefused(
                f"{path} already holds files: a restore never mixes with existing data",
                hint="restore into a new, empty data folder (MEMORIA_DATA_DIR)",
            )
    busy = {name: count for name, count in (await table_counts(db_url)).items() if count}
    if busy:
        said = ", ".join(f"{count} in {name}" for name, count in sorted(busy.items()))
        raise RestoreRefused(
            f"the database already has rows ({said}): a restore never mixes with existing data",
            hint="point DATABASE_URL at a new, empty database (migrated or not)",
        )


def _check_known(script: ScriptDirectory, revision: str) -> None:
    try:
        found = script.get_revision(revision)
    except CommandError as exc:
        found = None
        cause: BaseException | None = exc
    else:
        cause = None
    if found is None:
        raise ArchiveInvalid(
            f"the backup was made at database revision {revision!r}, which this Memoria does not know",
            hint="restore it with the Memoria version that made it (or a newer one)",
        ) from cause


async def _migrate(db_url: str | URL, script: ScriptDirectory, current: str | None, revision: str) -> None:
    if current == revision:
        return
    if current is not None and revision in {s.revision for s in script.iterate_revisions(current, "base")}:
        await downgrade(db_url, revision)  # the database is empty: nothing is lost
    else:
        await upgrade(db_url, revision)


def _extract_files(archive: Path, manifest: Manifest, staging: Path, progress: Progress | None) -> None:
    with tarfile.open(archive, "r:") as tar:
        for done, file in enumerate(manifest.files):
            if progress:
                progress("extract", done, len(manifest.files))
            member = tar.getmember(file.entry)
            target = staging / file.path
            target.parent.mkdir(parents=True, exist_ok=True)
            reader = open_entry(tar, member)
            with target.open("wb") as handle:
                while chunk := reader.read(1 << 20):
                    handle.write(chunk)
            if reader.digest.hexdigest() != file.sha256:
                raise ArchiveInvalid(f"{file.entry} changed while it was restored", hint="restore again from a copy")
            os.utime(target, (member.mtime, member.mtime))
    if progress:
        progress("extract", len(manifest.files), len(manifest.files))


def _move_into_place(staging: Path, data_dir: Path) -> None:
    """One rename per owned folder; an empty folder already there is replaced."""
    moved: list[Path] = []
    try:
        for folder in OWNED_FOLDERS:
            source, target = staging / folder, data_dir / folder
            if not source.exists():
                continue
            if target.is_dir():
                target.rmdir()  # empty (checked before); fails if something appeared since
            os.rename(source, target)
            moved.append(target)
    except BaseException:
        for target in moved:
            shutil.rmtree(target, ignore_errors=True)
        raise
