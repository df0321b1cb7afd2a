"""Writing a backup tar in one pass, and verifying every entry of one before anything is restored."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from server.backup.errors import ArchiveInvalid
from server.backup.manifest import (
    MANIFEST,
    OWNED_FOLDERS,
    FileEntry,
    Manifest,
    decode_manifest,
    encode_manifest,
    file_entry,
)

Progress = Callable[[str, int, int], None]
CHUNK = 1 << 20
_DAMAGED = "the archive is damaged or cut short: make a new backup, or use another copy of this one"


class HashingReader:
    """A read-only file wrapper that hashes what passes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0
        self.newlines = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.digest.update(data)
        self.size += len(data)
        self.newlines += data.count(b"\n")
        return data

    def lines(self) -> Iterator[bytes]:
        """The content split at newlines (without them)."""
        pending = b""
        while chunk := self.read(CHUNK):
            *complete, pending = (pending + chunk).split(b"\n")
            yield from complete
        if pending:
            yield pending

    def drain(self) -> None:
        """Read to the end (hashing and counting everything)."""
        while self.read(CHUNK):
            pass


def owned_files(data_dir: Path) -> list[str]:
    """Data-relative POSIX paths of every file Memoria owns, sorted; temp files and symlinks skipped."""
    found: list[str] = []
    for folder in OWNED_FOLDERS:
        top = data_dir / folder
        for root, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".tmp-") and not Path(root, d).is_symlink())
            for name in names:
                path = Path(root, name)
                if name.startswith(".tmp-") or name.endswith(".part") or path.is_symlink() or not path.is_file():
                    continue
                found.append(path.relative_to(data_dir).as_posix())
    return sorted(found)


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_info(name, len(data), time.time()), io.BytesIO(data))


def add_file(tar: tarfile.TarFile, name: str, path: Path) -> tuple[int, str] | None:
    """Add `path` as entry `name`; its (size, sha256), or None when it vanished first.

    The size is taken when the file is opened and exactly that many bytes are copied: Storage
    replaces files by rename, so an open file never changes under us, and a recording still
    being written only grows.
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    with handle:
        stat = os.fstat(handle.fileno())
        reader = HashingReader(handle)
        tar.addfile(_info(name, stat.st_size, stat.st_mtime), reader)
    return reader.size, reader.digest.hexdigest()


def add_files(
    tar: tarfile.TarFile, data_dir: Path, paths: list[str], *, progress: Progress | None = None
) -> tuple[list[FileEntry], list[str]]:
    """Add every path under `files/`; the entries and a warning for each file gone meanwhile."""
    entries: list[FileEntry] = []
    warnings: list[str] = []
    for done, relative in enumerate(paths):
        if progress:
            progress("files", done, len(paths))
        added = add_file(tar, file_entry(relative), data_dir / relative)
        if added is None:
            warnings.append(f"{relative} was removed while the backup ran; not included")
            continue
        size, sha = added
        entries.append(FileEntry(path=relative, entry=file_entry(relative), size=size, sha256=sha))
    if progress:
        progress("files", len(paths), len(paths))
    return entries, warnings


def write_manifest(tar: tarfile.TarFile, manifest: Manifest) -> None:
    add_bytes(tar, MANIFEST, encode_manifest(manifest))


def verify_archive(archive: Path, *, progress: Progress | None = None) -> Manifest:
    """Check the manifest and every entry's size and SHA-256; ArchiveInvalid on any mismatch."""
    try:
        with tarfile.open(archive, "r:") as tar:
            members = tar.getmembers()
            manifest = _read_manifest(tar, members)
            expected = manifest.entries()
            rows = {table.entry: table.rows for table in manifest.tables}
            seen: set[str] = set()
            for done, member in enumerate(members):
                if member.name == MANIFEST:
                    continue
                if progress:
                    progress("verify", done, len(members))
                if member.name not in expected or member.name in seen or not member.isfile():
                    raise ArchiveInvalid(f"the archive holds an unexpected entry {member.name!r}", hint=_DAMAGED)
                seen.add(member.name)
                size, sha = expected[member.name]
                reader = open_entry(tar, member)
                reader.drain()
                if reader.size != size or reader.digest.hexdigest() != sha:
                    raise ArchiveInvalid(f"{member.name} in the archive does not match its checksum", hint=_DAMAGED)
                if member.name in rows and reader.newlines != rows[member.name]:
                    # The checksum covers the data; this catches a manifest whose counts were changed.
                    said = f"{member.name} holds {reader.newlines} rows, not {rows[member.name]}"
                    raise ArchiveInvalid(said, hint=_DAMAGED)
            missing = sorted(set(expected) - seen)
            if missing:
                raise ArchiveInvalid(f"the archive lacks {len(missing)} entries, e.g. {missing[0]}", hint=_DAMAGED)
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise ArchiveInvalid(f"there is no backup at {archive}", hint="check the path") from exc
        raise ArchiveInvalid(f"{archive} is not a readable backup: {exc}", hint=_DAMAGED) from exc
    if progress:
        progress("verify", len(members), len(members))
    return manifest


def open_entry(tar: tarfile.TarFile, member: tarfile.TarInfo | str) -> HashingReader:
    handle = tar.extractfile(member)
    if handle is None:
        raise ArchiveInvalid(f"{member} in the archive is not a file", hint=_DAMAGED)
    return HashingReader(handle)


def _read_manifest(tar: tarfile.TarFile, members: list[tarfile.TarInfo]) -> Manifest:
    found = [m for m in members if m.name == MANIFEST]
    if len(found) != 1 or not found[0].isfile():
        raise ArchiveInvalid(
            "the archive has no manifest.json: it is not a Memoria backup, or it was cut short", hint=_DAMAGED
        )
    return decode_manifest(open_entry(tar, found[0]).raw.read())


def _info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o644
    return info
