"""Stored renders: a sentence already rendered for the same avatar, words, emotion and backends is
played back from disk instead of being synthesised and animated again.

Key: (avatar id, text, emotion, backend) plus an optional `variant` for anything else that changes
the picture or voice (photo id, output size, voice profile version). The file is one zip under
`avatars/<id>/renders/` (meta.json, audio.pcm int16, frames/NNNNNN.jpg); the row is in
`generated_videos`. Used like this (a call goes through server.renders.cache):

    hit = await store.lookup(session, storage, avatar_id=7, text=t, emotion="happy", backend="warp+piper")
    if hit:
        with store.open_replay(storage, hit) as replay:
            for chunk in replay.audio(pts=stream_pts): ...
            for frame in replay.frames(first_index=stream_pts * 25 // replay.sample_rate): ...
    else:
        ... render live, keep the chunks and frames, then
        await store.store(session, storage, avatar_id=7, text=t, emotion="happy", backend="warp+piper",
                                 audio=chunks, frames=frames)
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from typing import Self

import msgspec
import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import GeneratedVideo
from server.errors import BadInput
from server.media import AudioChunk, VideoFrame
from server.media.types import VIDEO_FPS
from server.storage import Storage

JPEG_QUALITY = 90
FOLDER = "renders"


class CachedRender(msgspec.Struct, frozen=True):
    """One stored reply: its row id, file and what it says."""

    id: int
    path: str  # relative to the data directory
    text: str
    emotion: str
    backend: str
    duration_s: float


def render_key(text: str, emotion: str, backend: str, variant: str = "") -> str:
    """SHA-256 over the normalised words and everything else that changes the render."""
    words = " ".join(text.split())
    return hashlib.sha256(f"{words}\x1f{emotion}\x1f{backend}\x1f{variant}".encode()).hexdigest()


async def lookup(
    session: AsyncSession, storage: Storage, *, avatar_id: int, text: str, emotion: str, backend: str, variant: str = ""
) -> CachedRender | None:
    """The newest matching render, or None; a row whose file has gone is removed."""
    key = render_key(text, emotion, backend, variant)
    rows = await session.scalars(
        select(GeneratedVideo)
        .where(
            GeneratedVideo.avatar_id == avatar_id, GeneratedVideo.text_hash == key, GeneratedVideo.emotion == emotion
        )
        .order_by(GeneratedVideo.id.desc())
    )
    for row in rows:
        if row.backend != backend:
            continue
        try:
            present = storage.resolve(row.path).is_file()
        except ValueError:
            present = False
        if not present:
            await session.delete(row)
            await session.commit()
            return None
        return CachedRender(row.id, row.path, row.text, row.emotion, row.backend, row.duration_s)
    return None


async def store(
    session: AsyncSession,
    storage: Storage,
    *,
    avatar_id: int,
    text: str,
    emotion: str,
    backend: str,
    audio: Sequence[AudioChunk],
    frames: Sequence[VideoFrame],
    variant: str = "",
) -> CachedRender:
    """Write the render (file first, then the row, committed) and return its handle."""
    if not audio or not frames:
        raise BadInput("nothing to cache: a render needs audio and frames")
    data, duration = await asyncio.to_thread(_pack, audio, frames)
    path = storage.new_avatar_file(avatar_id, FOLDER, ".zip")
    await asyncio.to_thread(storage.write, path, data)  # fsync: keep it off the event loop
    try:
        row = GeneratedVideo(
            avatar_id=avatar_id,
            text_hash=render_key(text, emotion, backend, variant),
            text=text,
            emotion=emotion,
            path=path,
            duration_s=duration,
            backend=backend,
        )
        session.add(row)
        await session.commit()
    except BaseException:
        storage.delete(path)
        raise
    return CachedRender(row.id, path, text, emotion, backend, duration)


async def forget_avatar(session: AsyncSession, storage: Storage, avatar_id: int) -> int:
    """Drop every render of an avatar (its photo or voice changed); returns how many."""
    rows = list(await session.scalars(select(GeneratedVideo).where(GeneratedVideo.avatar_id == avatar_id)))
    for row in rows:
        storage.delete(row.path)
    await session.execute(delete(GeneratedVideo).where(GeneratedVideo.avatar_id == avatar_id))
    await session.commit()
    return len(rows)


def _pack(audio: Sequence[AudioChunk], frames: Sequence[VideoFrame]) -> tuple[bytes, float]:
    import cv2

    rate = audio[0].sample_rate
    if any(c.sample_rate != rate for c in audio):
        raise BadInput("a cached render needs one audio sample rate")
    pcm = np.concatenate([c.samples for c in audio]).astype("<i2")
    first = frames[0].index
    h, w = frames[0].image.shape[:2]
    meta = {
        "sample_rate": rate,
        "fps": frames[0].fps,
        "frames": len(frames),
        "width": w,
        "height": h,
        "samples": len(pcm),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("meta.json", json.dumps(meta))
        z.writestr("audio.pcm", pcm.tobytes())
        for frame in frames:
            ok, jpeg = cv2.imencode(".jpg", frame.image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                raise BadInput("a frame could not be encoded")
            z.writestr(f"frames/{frame.index - first:06d}.jpg", jpeg.tobytes())
    return out.getvalue(), len(pcm) / rate


class Replay:
    """An opened render: audio chunks and frames renumbered onto the caller's stream clock."""

    def __init__(self, data: bytes) -> None:
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        meta = json.loads(self._zip.read("meta.json"))
        self.sample_rate: int = meta["sample_rate"]
        self.fps: int = meta.get("fps", VIDEO_FPS)
        self.frame_count: int = meta["frames"]
        self.size: tuple[int, int] = (meta["width"], meta["height"])
        self.duration_s: float = meta["samples"] / self.sample_rate

    def audio(self, *, pts: int = 0, chunk_samples: int | None = None) -> Iterator[AudioChunk]:
        """The stored audio in chunks (20 ms by default), the first at stream sample `pts`."""
        pcm = np.frombuffer(self._zip.read("audio.pcm"), "<i2").astype(np.int16)
        step = chunk_samples or self.sample_rate // 50
        for at in range(0, len(pcm), step):
            yield AudioChunk(samples=pcm[at : at + step].copy(), sample_rate=self.sample_rate, pts=pts + at)

    def frames(self, *, first_index: int = 0) -> Iterator[VideoFrame]:
        """The stored frames, decoded one at a time, numbered from `first_index`."""
        import cv2

        for i in range(self.frame_count):
            raw = np.frombuffer(self._zip.read(f"frames/{i:06d}.jpg"), np.uint8)
            bgr = cv2.imdecode(raw, cv2.IMREAD_COLOR)
            if bgr is None:
                raise BadInput(f"frame {i} of the cached render is damaged", hint="it will be rendered again")
            yield VideoFrame(image=np.ascontiguousarray(bgr[:, :, ::-1]), index=first_index + i, fps=self.fps)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_replay(storage: Storage, cached: CachedRender) -> Replay:
    """Open a cached render for playback (reads the file into memory; a few MB)."""
    try:
        return Replay(storage.read(cached.path))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise BadInput(f"the cached render {cached.path} is damaged: {exc}", hint="it will be rendered again") from exc
