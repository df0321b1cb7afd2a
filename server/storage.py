"""The one place that writes user files under the data directory.

Files are referenced from the database by a POSIX path relative to `data_dir`, so the data folder
can move. Writes are atomic (temp file + `os.replace`): a crash never leaves half a photo that a
row points at. Every avatar owns one folder, `avatars/<id>/`, which goes away with the avatar.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path, PurePosixPath

from server.errors import NotFound

AVATARS = "avatars"


class Storage:
    """Files under one data directory, addressed by relative POSIX paths."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir).resolve()

    def avatar_dir(self, avatar_id: int) -> Path:
        return self.root / AVATARS / str(int(avatar_id))

    def new_avatar_file(self, avatar_id: int, folder: str, suffix: str) -> str:
        """A fresh, unused relative path such as `avatars/7/photos/<uuid>.jpg`."""
        if not folder.isidentifier():
            raise ValueError(f"bad folder name {folder!r}")
        return str(PurePosixPath(AVATARS, str(int(avatar_id)), folder, f"{uuid.uuid4().hex}{suffix}"))

    def resolve(self, relative: str) -> Path:
        """The absolute path of `relative`; refuses anything that would leave the data directory."""
        rel = PurePosixPath(relative)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\x00" in relative:
            raise ValueError(f"not a data-relative path: {relative!r}")
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"path escapes the data directory: {relative!r}")
        return path

    def write(self, relative: str, data: bytes) -> Path:
        """Write `data` atomically: a temp file in the same folder, fsync, then rename over."""
        path = self.resolve(relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def read(self, relative: str) -> bytes:
        return self.existing(relative).read_bytes()

    def existing(self, relative: str) -> Path:
        """The absolute path of a file that must be there; NotFound if it was removed behind our back
        (or replaced by a link that leads out of the data directory)."""
        try:
            path = self.resolve(relative)
        except (ValueError, OSError):
            raise NotFound("the file is missing from the data directory") from None
        if not path.is_file():
            raise NotFound("the file is missing from the data directory", hint="it was removed outside Memoria")
        return path

    def delete(self, relative: str | None) -> None:
        """Remove one file if it is there; paths outside the data directory are ignored."""
        if not relative:
            return
        try:
            path = self.resolve(relative)
        except ValueError:
            return
        path.unlink(missing_ok=True)

    def delete_avatar(self, avatar_id: int) -> None:
        """Remove the avatar's whole folder (photos, voice, recordings, renders...)."""
        folder = self.avatar_dir(avatar_id)
        if folder.exists():
            shutil.rmtree(folder)
