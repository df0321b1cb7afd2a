"""The archive's table of contents: what it holds, with a size and SHA-256 for every entry.

Layout of a backup (an uncompressed POSIX tar; media is compressed already):
    db/<table>.jsonl          one JSON object per row, tables in dependency order
    files/<data-relative>     every file under the data dir's avatars/
    manifest.json             this, last: written once every entry's checksum is known
"""

from __future__ import annotations

from pathlib import PurePosixPath

import msgspec

from server.backup.errors import ArchiveInvalid

FORMAT = "memoria-backup"
VERSION = 1
MANIFEST = "manifest.json"
TABLES_PREFIX = "db/"
FILES_PREFIX = "files/"
OWNED_FOLDERS = ("avatars",)  # under the data dir; the database file is covered by the dump


class TableDump(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One table's rows: where they are in the archive and how to read them back."""

    name: str
    entry: str
    rows: int
    size: int
    sha256: str
    columns: dict[str, str]  # column -> kind (server.backup.values), in table order
    id_column: str | None = None  # the auto-increment column, if any
    next_id: int | None = None  # the id the source would have handed out next


class FileEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One file of the data dir."""

    path: str  # relative to the data dir, POSIX
    entry: str
    size: int
    sha256: str


class Manifest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything a restore checks before it writes anything."""

    revision: str  # alembic revision of the dumped schema
    source: str  # "sqlite" or "mysql"
    created_at: str  # ISO 8601, UTC
    tables: list[TableDump]
    files: list[FileEntry]
    warnings: list[str] = []
    format: str = FORMAT
    version: int = VERSION

    def entries(self) -> dict[str, tuple[int, str]]:
        """Archive entry -> (size, sha256) for every table dump and file."""
        listed = [(t.entry, t.size, t.sha256) for t in self.tables] + [(f.entry, f.size, f.sha256) for f in self.files]
        return {entry: (size, sha) for entry, size, sha in listed}


def table_entry(name: str) -> str:
    return f"{TABLES_PREFIX}{name}.jsonl"


def file_entry(relative: str) -> str:
    return f"{FILES_PREFIX}{relative}"


def encode_manifest(manifest: Manifest) -> bytes:
    return msgspec.json.format(msgspec.json.encode(manifest), indent=2)


def decode_manifest(data: bytes) -> Manifest:
    """Parse and check a manifest; ArchiveInvalid says what is wrong with it."""
    try:
        manifest = msgspec.json.decode(data, type=Manifest)
    except msgspec.DecodeError as exc:
        raise ArchiveInvalid(f"the backup's manifest.json is damaged: {exc}", hint=_NEW_BACKUP) from exc
    if manifest.format != FORMAT or manifest.version != VERSION:
        raise ArchiveInvalid(
            f"not a Memoria backup of a known format ({manifest.format} v{manifest.version})",
            hint="restore it with the Memoria version that made it",
        )
    for table in manifest.tables:
        if table.entry != table_entry(table.name):
            raise ArchiveInvalid(f"the manifest lists table {table.name!r} at {table.entry!r}", hint=_NEW_BACKUP)
    for file in manifest.files:
        if not is_owned_path(file.path) or file.entry != file_entry(file.path):
            raise ArchiveInvalid(f"the manifest lists a file outside the data folders: {file.path!r}", hint=_NEW_BACKUP)
    if len(manifest.entries()) != len(manifest.tables) + len(manifest.files):
        raise ArchiveInvalid("the manifest lists an entry twice", hint=_NEW_BACKUP)
    return manifest


def is_owned_path(relative: str) -> bool:
    """A plain relative path inside one of the folders a backup carries (no `..`, not absolute)."""
    path = PurePosixPath(relative)
    parts = path.parts
    return (
        not path.is_absolute()
        and len(parts) >= 2
        and parts[0] in OWNED_FOLDERS
        and all(part not in ("", ".", "..") for part in parts)
        and "\\" not in relative
    )


_NEW_BACKUP = "make a new backup, or use another copy of this one"
