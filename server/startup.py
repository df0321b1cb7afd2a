"""What a server does before taking requests: put right what the last run left when it was killed,
and keep the data folder private (it holds people's faces, voices and words)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import Avatar, AvatarImage, GeneratedVideo, Message, VideoCall, VoiceSample
from server.domain.calls.log import close_stale_calls
from server.storage import AVATARS, Storage

log = logging.getLogger(__name__)
OWNED_FOLDERS = ("photos", "voice", "recordings", "renders")  # every file in these has a row


async def recover(sessionmaker: async_sessionmaker[AsyncSession], storage: Storage) -> None:
    """Close call rows left open (keeping the reply that was being spoken), remove half-written and
    orphaned files, and make the data folder readable by this user only."""
    open_calls = await _open_conversations(sessionmaker)
    closed = await close_stale_calls(sessionmaker)
    if closed:
        await _mark_cut_replies(sessionmaker, open_calls)
        log.info("closed %d call(s) left open by the previous run", closed)
    referenced, avatar_ids = await _referenced_files(sessionmaker)
    removed = await asyncio.to_thread(_clean_files, storage.root, referenced, avatar_ids)
    if removed:
        log.info("removed %d half-written or orphaned file(s) from %s", removed, storage.root)


async def _open_conversations(sessionmaker: async_sessionmaker[AsyncSession]) -> list[int]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(VideoCall.conversation_id).where(VideoCall.ended_at.is_(None))))


async def _mark_cut_replies(sessionmaker: async_sessionmaker[AsyncSession], conversations: list[int]) -> None:
    """A reply that was being spoken when the server died is kept, marked as cut off."""
    if not conversations:
        return
    async with sessionmaker() as session, session.begin():
        rows = await session.scalars(select(Message).where(Message.conversation_id.in_(conversations)))
        for message in rows:
            if (message.flags or {}).get("speaking"):
                message.flags = {k: v for k, v in message.flags.items() if k != "speaking"} | {"interrupted": True}


async def _referenced_files(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[set[str], set[int]]:
    async with sessionmaker() as session:
        paths: set[str] = set()
        for column in (AvatarImage.path, VoiceSample.path, VideoCall.recording_path, GeneratedVideo.path):
            paths.update(p for p in await session.scalars(select(column)) if p)
        avatar_ids = set(await session.scalars(select(Avatar.id)))
    return paths, avatar_ids


def _clean_files(root: Path, referenced: set[str], avatar_ids: set[int]) -> int:
    """Blocking: remove temp and partial files, folders of deleted avatars, files no row points at."""
    removed = 0
    avatars = root / AVATARS
    for folder in sorted(avatars.iterdir()) if avatars.is_dir() else []:
        if folder.is_dir() and not folder.is_symlink() and folder.name.isdigit() and int(folder.name) not in avatar_ids:
            removed += _remove_tree(folder)
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        relative = path.relative_to(root)
        half_written = path.name.startswith(".tmp-") or path.name.endswith(".part")
        orphan = len(relative.parts) >= 4 and relative.parts[0] == AVATARS and relative.parts[2] in OWNED_FOLDERS
        if half_written or (orphan and relative.as_posix() not in referenced):
            path.unlink(missing_ok=True)
            removed += 1
    make_private(root)
    return removed


def _remove_tree(folder: Path) -> int:
    count = 0
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink(missing_ok=True)
            count += 1
    folder.rmdir()
    return count


def make_private(root: Path) -> None:
    """Folders 0700, files 0600 under the data folder (an earlier version left them world-readable)."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        try:
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
        except OSError as exc:  # a file owned by someone else: say so, do not stop the server
            log.warning("cannot make %s private: %s", path, exc)
