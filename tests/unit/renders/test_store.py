"""The replay cache: a stored render is found again by its key, replays identically, and goes
away cleanly when its file is lost or the avatar changes."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Avatar, GeneratedVideo, User, utcnow
from server.errors import BadInput
from server.media import AudioChunk, VideoFrame
from server.renders import store as render_cache
from server.storage import Storage

RATE = 16000


@pytest.fixture(autouse=True)
async def avatar(session: AsyncSession) -> int:
    """Avatar 7 of one user, in the project's migrated database (SQLite, and MariaDB when configured)."""
    user = User(email="a@example.org", password_hash="x")
    session.add(user)
    await session.flush()
    session.add(
        Avatar(
            id=7,
            owner_id=user.id,
            name="Gran",
            relationship_to_user="grandmother",
            consent_statement="yes",
            consent_at=utcnow(),
        )
    )
    await session.commit()
    return 7


def render(seconds: float = 0.4, seed: int = 0) -> tuple[list[AudioChunk], list[VideoFrame]]:
    rng = np.random.default_rng(seed)
    pcm = (rng.standard_normal(int(RATE * seconds)) * 3000).astype(np.int16)
    audio = [AudioChunk(samples=pcm[i : i + 320], sample_rate=RATE, pts=i) for i in range(0, len(pcm), 320)]
    frames = []
    for i in range(int(seconds * 25)):
        img = np.zeros((64, 80, 3), np.uint8)
        img[:, :, 0] = 40 * i % 256  # each frame its own colour, so order can be checked after JPEG
        img[10:30, 10 + i : 30 + i] = 255
        frames.append(VideoFrame(image=img, index=100 + i))
    return audio, frames


async def test_store_then_lookup_replays_the_same_audio_and_frames(session: AsyncSession, tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data")
    audio, frames = render()
    stored = await render_cache.store(
        session,
        storage,
        avatar_id=7,
        text="Hello  querido.",
        emotion="happy",
        backend="warp+piper",
        audio=audio,
        frames=frames,
    )
    assert stored.path.startswith("avatars/7/renders/") and storage.resolve(stored.path).is_file()
    # Whitespace differences do not matter; the words, emotion and backend do.
    hit = await render_cache.lookup(
        session, storage, avatar_id=7, text="Hello querido.", emotion="happy", backend="warp+piper"
    )
    assert hit is not None and hit.id == stored.id
    assert abs(hit.duration_s - 0.4) < 1e-6
    with render_cache.open_replay(storage, hit) as replay:
        chunks = list(replay.audio(pts=48000))
        out = list(replay.frames(first_index=75))
    assert np.array_equal(np.concatenate([c.samples for c in chunks]), np.concatenate([c.samples for c in audio]))
    assert chunks[0].pts == 48000 and all(b.pts == a.pts + len(a.samples) for a, b in itertools.pairwise(chunks))
    assert [f.index for f in out] == list(range(75, 75 + len(frames)))
    for original, back in zip(frames, out):
        assert back.image.shape == original.image.shape
        assert np.abs(back.image.astype(int) - original.image.astype(int)).mean() < 3  # JPEG, not bit-exact


@pytest.mark.parametrize(
    ("text", "emotion", "backend", "variant"),
    [
        ("Hello there.", "happy", "warp+piper", ""),
        ("Hello querido.", "sad", "warp+piper", ""),
        ("Hello querido.", "happy", "wav2lip+piper", ""),
        ("Hello querido.", "happy", "warp+piper", "photo:2"),
    ],
)
async def test_any_part_of_the_key_changing_is_a_miss(
    session: AsyncSession, tmp_path: Path, text: str, emotion: str, backend: str, variant: str
) -> None:
    storage = Storage(tmp_path / "data")
    audio, frames = render()
    await render_cache.store(
        session,
        storage,
        avatar_id=7,
        text="Hello querido.",
        emotion="happy",
        backend="warp+piper",
        audio=audio,
        frames=frames,
    )
    assert (
        await render_cache.lookup(
            session, storage, avatar_id=7, text=text, emotion=emotion, backend=backend, variant=variant
        )
        is None
    )


async def test_a_lost_file_is_a_miss_and_its_row_is_removed(session: AsyncSession, tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data")
    audio, frames = render()
    stored = await render_cache.store(
        session, storage, avatar_id=7, text="Hi.", emotion="neutral", backend="warp", audio=audio, frames=frames
    )
    storage.delete(stored.path)
    assert (
        await render_cache.lookup(session, storage, avatar_id=7, text="Hi.", emotion="neutral", backend="warp") is None
    )
    assert await session.scalar(select(func.count()).select_from(GeneratedVideo)) == 0


async def test_forget_avatar_removes_rows_and_files(session: AsyncSession, tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data")
    paths = []
    for i in range(3):
        audio, frames = render(seed=i)
        paths.append(
            (
                await render_cache.store(
                    session,
                    storage,
                    avatar_id=7,
                    text=f"Line {i}.",
                    emotion="neutral",
                    backend="warp",
                    audio=audio,
                    frames=frames,
                )
            ).path
        )
    assert await render_cache.forget_avatar(session, storage, 7) == 3
    assert not any(storage.resolve(p).exists() for p in paths)
    assert await session.scalar(select(func.count()).select_from(GeneratedVideo)) == 0


async def test_empty_or_damaged_renders_are_refused(session: AsyncSession, tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data")
    audio, frames = render()
    with pytest.raises(BadInput):
        await render_cache.store(
            session, storage, avatar_id=7, text="x", emotion="neutral", backend="warp", audio=audio, frames=[]
        )
    stored = await render_cache.store(
        session, storage, avatar_id=7, text="x", emotion="neutral", backend="warp", audio=audio, frames=frames
    )
    storage.write(stored.path, b"not a zip")
    with pytest.raises(BadInput, match="damaged"):
        render_cache.open_replay(storage, stored)
