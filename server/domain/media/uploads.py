"""Reading an upload into memory within the size limit, and the write-file-then-commit order
that guarantees a rejected upload leaves neither a row nor a file."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import PurePath
from typing import TypeVar

from litestar.datastructures import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import BadInput, TooLarge
from server.storage import Storage

T = TypeVar("T")
CHUNK = 1024 * 1024


async def read_upload(upload: UploadFile | None, limit: int) -> bytes:
    """The whole upload; stops reading as soon as it passes `limit` bytes. The caller closes it."""
    if upload is None or not isinstance(upload, UploadFile):
        raise BadInput("send the file as multipart/form-data in a field named `file`")
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the file is larger than the {limit / 2**20:.0f} MiB limit", hint="send a smaller file")
        parts.append(chunk)
    return b"".join(parts)


def original_name(upload: UploadFile) -> str:
    """The client's file name without any folders, for display only."""
    return PurePath((upload.filename or "").replace("\\", "/")).name[:255]


async def store_then_commit(
    session: AsyncSession, storage: Storage, path: str, data: bytes, add_rows: Callable[[], Awaitable[T]]
) -> T:
    """Write the file, add and commit its row(s); if anything after the write fails, delete the file."""
    await asyncio.to_thread(storage.write, path, data)  # up to the upload limit, with fsync: off the loop
    try:
        result = await add_rows()
        await session.commit()
    except BaseException:
        storage.delete(path)
        raise
    return result
