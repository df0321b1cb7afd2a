"""What backup and restore refuse with; part of the one MemoriaError hierarchy."""

from __future__ import annotations

from server.errors import MemoriaError


class BackupError(MemoriaError):
    """A backup or restore could not be done; `hint` says what to do."""


class ArchiveInvalid(BackupError):
    """The archive is not a Memoria backup, or it is damaged: nothing was written."""

    status_code = 400


class RestoreRefused(BackupError):
    """The target instance is not empty: a restore never merges into existing data."""

    status_code = 409
