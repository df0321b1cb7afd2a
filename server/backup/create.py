"""`create_backup`: the database dump, then the files, in one archive that appears whole or not at all."""

from __future__ import annotations

import asyncio
import os
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from sqlalchemy.engine import URL

from server.backup.archive import Progress, add_file, add_files, owned_files, write_manifest
from server.backup.dump import dump_database
from server.backup.errors import BackupError
from server.backup.manifest import Manifest
from server.db.engine import current_revision, head_revision, parse_url


async def create_backup(
    db_url: str | URL, data_dir: Path, out_path: Path, *, progress: Progress | None = None
) -> Manifest:
    """Back up every table and every file under the data dir's avatars/ into the tar `out_path`.

    Safe while the server runs: the tables come from one snapshot; files are copied after it, so
    every file a dumped row points at is there unless it was deleted meanwhile (a warning then).
    """
    revision = await current_revision(db_url)  # also: a clear error when the database is unreachable
    head = head_revision()
    if revision is None or revision != head:
        raise BackupError(
            f"the database is at revision {revision or 'base (no tables)'}, this Memoria expects {head}",
            hint="run `memoria db upgrade` first",
        )
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".tmp-backup-") as folder:
        staging = Path(folder)
        dump = await dump_database(db_url, staging, progress=progress)
        files = owned_files(Path(data_dir))
        missing = sorted(ref for ref in dump.references if ref not in set(files))
        manifest = Manifest(
            revision=revision,
            source=parse_url(db_url).get_backend_name(),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            tables=dump.tables,
            files=[],
            warnings=[f"{ref} is referenced by a row but missing from the data dir" for ref in missing],
        )
        partial = staging / "archive.tar"
        manifest = await asyncio.to_thread(_write, partial, staging, Path(data_dir), files, manifest, progress)
        os.replace(partial, out)
    return manifest


def _write(
    archive: Path, staging: Path, data_dir: Path, files: list[str], manifest: Manifest, progress: Progress | None
) -> Manifest:
    """The tar: table dumps, files, then the manifest with every checksum; fsynced before the rename."""
    with archive.open("wb") as raw:
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for table in manifest.tables:
                if add_file(tar, table.entry, staging / table.entry) is None:
                    raise BackupError(f"the dump of {table.name} disappeared from {staging}")
            entries, warnings = add_files(tar, data_dir, files, progress=progress)
            manifest = msgspec.structs.replace(manifest, files=entries, warnings=[*manifest.warnings, *warnings])
            write_manifest(tar, manifest)
        raw.flush()
        os.fsync(raw.fileno())
    return manifest
