"""Voice samples: decoded from common formats, checked, stored as 16-bit mono WAV."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Avatar, VoiceSample, possible_id
from server.domain.media import schemas
from server.domain.media.uploads import store_then_commit
from server.errors import NotFound
from server.media.audio_io import DecodedAudio, decode_voice, to_wav
from server.settings import Limits
from server.storage import Storage

if TYPE_CHECKING:
    from server.domain.media.preparation import MediaPreparer


def sample_read(sample: VoiceSample) -> schemas.VoiceSampleRead:
    return schemas.VoiceSampleRead(
        id=sample.id,
        original_name=sample.original_name,
        duration_s=round(sample.duration_s, 3),
        sample_rate=sample.sample_rate,
        created_at=sample.created_at,
    )


def _convert(data: bytes, limits: Limits) -> tuple[DecodedAudio, bytes]:
    audio = decode_voice(data, limits)
    return audio, to_wav(audio)


async def add(
    session: AsyncSession,
    storage: Storage,
    avatar: Avatar,
    data: bytes,
    name: str,
    limits: Limits,
    media: MediaPreparer,
) -> VoiceSample:
    """Check and store a recording (all or nothing); the voice is learned again in the background."""
    audio, wav = await asyncio.to_thread(_convert, data, limits)
    path = storage.new_avatar_file(avatar.id, "voice", ".wav")

    async def add_row() -> VoiceSample:
        sample = VoiceSample(
            avatar_id=avatar.id,
            path=path,
            original_name=name,
            duration_s=audio.duration_s,
            sample_rate=audio.sample_rate,
        )
        session.add(sample)
        await session.flush()
        return sample

    sample = await store_then_commit(session, storage, path, wav, add_row)
    await session.refresh(sample)
    await media.voice_changed(session, avatar.id)
    return sample


async def owned_sample(session: AsyncSession, avatar: Avatar, sample_id: int) -> VoiceSample:
    if not possible_id(sample_id):
        raise NotFound(f"no voice sample {sample_id} for this avatar")
    sample = await session.scalar(
        select(VoiceSample).where(VoiceSample.id == sample_id, VoiceSample.avatar_id == avatar.id)
    )
    if sample is None:
        raise NotFound(f"no voice sample {sample_id} for this avatar")
    return sample


async def list_for(session: AsyncSession, avatar: Avatar) -> list[VoiceSample]:
    return list(
        await session.scalars(select(VoiceSample).where(VoiceSample.avatar_id == avatar.id).order_by(VoiceSample.id))
    )


async def remove(session: AsyncSession, storage: Storage, sample: VoiceSample, media: MediaPreparer) -> None:
    """Delete one recording; the voice is learned again from the rest."""
    path, avatar_id = sample.path, sample.avatar_id
    await session.delete(sample)
    await session.commit()
    storage.delete(path)
    await media.voice_changed(session, avatar_id)
