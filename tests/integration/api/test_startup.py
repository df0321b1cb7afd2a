"""After a kill -9: at the next start, half-written and orphaned files go, open call rows close, the
reply that was being spoken is kept, and the data folder is private."""

from __future__ import annotations

import stat
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.db.models import Avatar, AvatarImage, Conversation, Message, User, VideoCall, utcnow
from server.storage import Storage


async def _leftovers(engine: AsyncEngine, data_dir: Path) -> dict[str, Path]:
    """What a killed server leaves: rows of a live call, temp and partial files, orphans."""
    storage = Storage(data_dir)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        user = User(email="ann@example.org", password_hash="x", display_name="Ann")
        session.add(user)
        await session.flush()
        avatar = Avatar(
            owner_id=user.id, name="Rose", relationship_to_user="gran", consent_statement="ok", consent_at=utcnow()
        )
        session.add(avatar)
        await session.flush()
        kept = storage.new_avatar_file(avatar.id, "photos", ".jpg")
        session.add(AvatarImage(avatar_id=avatar.id, path=kept, width=1, height=1, is_primary=True))
        conversation = Conversation(avatar_id=avatar.id, user_id=user.id)
        session.add(conversation)
        await session.flush()
        session.add(VideoCall(conversation_id=conversation.id, avatar_id=avatar.id, user_id=user.id))
        session.add(
            Message(
                conversation_id=conversation.id, role="avatar", text="Hello pet, I was just", flags={"speaking": True}
            )
        )
        await session.commit()
        avatar_id = avatar.id
    files = {
        "kept": storage.write(kept, b"photo"),
        "orphan photo": storage.write(storage.new_avatar_file(avatar_id, "photos", ".jpg"), b"no row"),
        "orphan voice": storage.write(storage.new_avatar_file(avatar_id, "voice", ".wav"), b"no row"),
        "rig": storage.write(f"avatars/{avatar_id}/cache/rig.npz", b"prepared"),
        "deleted avatar": storage.write("avatars/999/photos/a.jpg", b"of an avatar that is gone"),
    }
    recordings = data_dir / "avatars" / str(avatar_id) / "recordings"
    recordings.mkdir(parents=True)
    files["partial recording"] = recordings / ".call.mp4.part"
    files["partial recording"].write_bytes(b"half")
    files["temp upload"] = data_dir / "avatars" / str(avatar_id) / "photos" / ".tmp-abc.jpg"
    files["temp upload"].write_bytes(b"half")
    for path in data_dir.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # as an earlier version left them
    return files


async def test_a_start_after_a_crash_puts_things_right(app: Litestar, engine: AsyncEngine, data_dir: Path) -> None:
    files = await _leftovers(engine, data_dir)
    async with AsyncTestClient(app=app):
        pass
    assert files["kept"].is_file() and files["rig"].is_file()
    for what in ("orphan photo", "orphan voice", "deleted avatar", "partial recording", "temp upload"):
        assert not files[what].exists(), what
    assert not (data_dir / "avatars" / "999").exists()
    async with AsyncSession(engine) as session:
        call = (await session.scalars(select(VideoCall))).one()
        message = (await session.scalars(select(Message))).one()
    assert call.ended_at is not None and call.end_reason == "server stopped"
    assert message.text == "Hello pet, I was just" and message.flags == {"interrupted": True}
    for path in [data_dir, *data_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
