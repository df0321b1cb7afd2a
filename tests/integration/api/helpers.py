"""Helpers the API tests share: what is stored (rows, files) and how uploads are sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.models import Base

SECRET_WORDS = "words only Ann ever said"  # a message of Ann's call: must never reach Bob

AVATAR = {
    "name": "Grandma Rose",
    "relationship": "my grandmother",
    "consent": True,
    "consent_statement": "I confirm I have the right to use this person's likeness and voice.",
}


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows per table: the proof that a rejected request stored nothing."""
    async with engine.connect() as conn:
        return {
            t.name: int((await conn.execute(text(f"SELECT COUNT(*) FROM {t.name}"))).scalar_one())
            for t in Base.metadata.sorted_tables
        }


async def table_rows(engine: AsyncEngine, *, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for before/after comparisons."""
    async with engine.connect() as conn:
        return {
            t.name: sorted(tuple(map(repr, row)) for row in (await conn.execute(select(t))).all())
            for t in Base.metadata.sorted_tables
            if t.name not in skip
        }


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file (relative path -> content) under the data folder, except the SQLite database."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith("memoria.db")
    }


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> dict[str, Any]:
    return {"files": {"file": (name, data, content_type)}}


async def populate(client: Any, engine: AsyncEngine, data_dir: Path, headers: dict[str, str]) -> dict[str, int]:
    """An avatar with something in every table that hangs off it, and files for every path column.

    The photo row is written directly (with a real stored JPEG) so that this set-up does not depend
    on face analysis; uploads themselves are tested in test_photos.
    """
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.db.models import (
        AvatarImage,
        Conversation,
        GeneratedVideo,
        Message,
        User,
        VideoCall,
    )
    from server.storage import Storage

    from . import samples

    avatar = (await client.post("/avatars", json=AVATAR, headers=headers)).json()["id"]
    voice = await client.post(
        f"/avatars/{avatar}/voice-samples", headers=headers, **upload("v.wav", samples.wav_bytes(samples.vowel(1.5)))
    )
    memory = await client.post(f"/avatars/{avatar}/memories", json={"text": "She grew tomatoes."}, headers=headers)
    personality = await client.put(f"/avatars/{avatar}/personality", json={"personality": "kind"}, headers=headers)
    assert voice.status_code == 201 and memory.status_code == 201 and personality.status_code == 200
    storage = Storage(data_dir)
    photo_path = storage.new_avatar_file(avatar, "photos", ".jpg")
    recording_path = storage.new_avatar_file(avatar, "recordings", ".webm")
    render_path = f"cache/renders/{avatar}-hello.mp4"  # outside the avatar's folder: removed through its row
    storage.write(photo_path, samples.face_jpeg())
    storage.write(recording_path, b"recording")
    storage.write(render_path, b"render")
    async with AsyncSession(engine, expire_on_commit=False) as session:
        me = (
            await session.scalars(
                select(User).where(User.id == (await client.get("/auth/me", headers=headers)).json()["id"])
            )
        ).one()
        photo = AvatarImage(
            avatar_id=avatar,
            path=photo_path,
            width=360,
            height=360,
            is_primary=True,
            face_landmarks={"points": [[1.0, 2.0]], "bbox": [0, 0, 9, 9]},
        )
        conversation = Conversation(avatar_id=avatar, user_id=me.id)
        session.add_all([photo, conversation])
        await session.flush()
        call = VideoCall(
            conversation_id=conversation.id, avatar_id=avatar, user_id=me.id, recording_path=recording_path
        )
        session.add_all(
            [
                Message(conversation_id=conversation.id, role="user", text=SECRET_WORDS),
                call,
                GeneratedVideo(avatar_id=avatar, text_hash="h", text="hello", path=render_path),
            ]
        )
        await session.commit()
    return {
        "avatar_id": avatar,
        "photo_id": photo.id,
        "sample_id": voice.json()["id"],
        "memory_id": memory.json()["id"],
        "conversation_id": conversation.id,
        "call_id": call.id,
    }
