"""Backups: one tar with a portable dump of every table and the data dir's files; restores into an
empty instance on SQLite or MySQL/MariaDB, whichever made the backup."""

from __future__ import annotations

from server.backup.archive import Progress, verify_archive
from server.backup.create import create_backup
from server.backup.errors import ArchiveInvalid, BackupError, RestoreRefused
from server.backup.manifest import FileEntry, Manifest, TableDump
from server.backup.restore import restore_backup

__all__ = [
    "ArchiveInvalid",
    "BackupError",
    "FileEntry",
    "Manifest",
    "Progress",
    "RestoreRefused",
    "TableDump",
    "create_backup",
    "restore_backup",
    "verify_archive",
]
