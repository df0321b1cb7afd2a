"""Hearing the avatar's voice before calling: one short sentence spoken with the voice a call
would use (the avatar's voice backend and what it learned from the samples), as a WAV file."""

from __future__ import annotations

import io
import wave

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from server.backends import BackendKind, VoiceBackend
from server.db.models import Avatar
from server.domain.calls.callee import voice_for
from server.persona.text import first_name
from server.pool import BackendPool
from server.registry import Registry
from server.storage import Storage


def preview_text(avatar: Avatar) -> str:
    user = first_name(avatar.user_name)
    return f"Hello{' ' + user if user else ''}, it's me. It is so good to hear your voice."


async def preview_wav(
    session: AsyncSession, storage: Storage, avatar: Avatar, registry: Registry, pool: BackendPool
) -> bytes:
    profile = await voice_for(session, storage, avatar, registry)
    name = registry.resolve(BackendKind.VOICE, avatar.backends)
    async with pool.borrow(VoiceBackend, name) as voice:
        chunks = [chunk async for chunk in voice.synthesize(preview_text(avatar), voice=profile)]
    rate = chunks[0].sample_rate if chunks else 22050
    pcm = np.concatenate([c.samples for c in chunks]) if chunks else np.zeros(0, np.int16)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype(np.int16).tobytes())
    return out.getvalue()
