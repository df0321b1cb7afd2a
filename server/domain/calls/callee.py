"""The avatar being called: its rows and files turned into what a call needs (face, sheet, voice)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.backends import BackendKind, PersonaSheet, VoiceProfile
from server.db.models import Avatar, AvatarImage, Memory, Personality, VoiceSample
from server.domain.media import voice_profiles
from server.domain.media.faces import DEFAULT_VIDEO, face_for, video_size
from server.errors import BadInput
from server.pipeline.backends import CallAvatar
from server.registry import Registry
from server.storage import Storage


async def call_avatar(
    session: AsyncSession, storage: Storage, avatar: Avatar, registry: Registry, *, video: str = DEFAULT_VIDEO
) -> CallAvatar:
    """`avatar` (already checked to be the caller's) ready to call; BadInput if it has no photo yet.

    Every backend is pinned in `backends` (the avatar's choice, else the registry's default), and
    `VoiceProfile.learned` holds what that voice backend, and only it, learned from the samples.
    """
    size = video_size(video)
    image = await session.scalar(
        select(AvatarImage)
        .where(AvatarImage.avatar_id == avatar.id)
        .order_by(AvatarImage.is_primary.desc(), AvatarImage.id)
        .limit(1)
    )
    if image is None:
        raise BadInput(f"{avatar.name} has no photo yet", hint="add a photo of their face first")
    personality = await session.get(Personality, avatar.id)
    memories = list(await session.scalars(select(Memory.text).where(Memory.avatar_id == avatar.id).order_by(Memory.id)))
    backends = {kind.value: name for kind, name in registry.resolve_all(avatar.backends, strict=False).items()}
    return CallAvatar(
        face=face_for(image, storage, avatar.id, size),
        sheet=sheet_for(avatar, personality, memories),
        voice=await voice_for(session, storage, avatar, registry),
        backends=backends,
        avatar_id=avatar.id,
        photo_id=image.id,
    )


async def voice_for(session: AsyncSession, storage: Storage, avatar: Avatar, registry: Registry) -> VoiceProfile:
    """The avatar's samples and what its voice backend (and only it) learned from them."""
    query = select(VoiceSample.id, VoiceSample.path).where(VoiceSample.avatar_id == avatar.id)
    samples = list((await session.execute(query.order_by(VoiceSample.id))).all())
    voice = registry.resolve(BackendKind.VOICE, avatar.backends)
    learned: dict[str, Any] = voice_profiles.usable_learned(avatar.voice_profile, voice, [i for i, _ in samples])
    return VoiceProfile(samples=tuple(storage.resolve(p) for _, p in samples), learned=learned)


def sheet_for(avatar: Avatar, personality: Personality | None, memories: list[str]) -> PersonaSheet:
    return PersonaSheet(
        name=avatar.name,
        relationship=avatar.relationship_to_user,
        user_name=avatar.user_name,
        personality=personality.personality if personality else "",
        speaking_style=personality.speaking_style if personality else "",
        example_phrases=tuple(str(p) for p in (personality.example_phrases if personality else []) or []),
        memories=tuple(memories),
    )
