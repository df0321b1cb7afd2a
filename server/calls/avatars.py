"""Turns an avatar's rows and files into what a call needs (face, persona sheet, voice)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.backends import AvatarFace, BackendKind, PersonaSheet, VoiceProfile
from server.db.models import Avatar, AvatarImage, Memory, Personality, User, VoiceSample
from server.domain import voice_profiles
from server.domain.avatars import owned_avatar
from server.errors import BadInput
from server.pipeline.backends import CallAvatar
from server.registry import Registry
from server.storage import Storage

VIDEO_SIZES: dict[str, tuple[int, int]] = {"512": (512, 512), "720p": (1280, 720)}
DEFAULT_VIDEO = "512"  # what a call gets unless it asks; the size photos are prepared for at upload


async def call_avatar(
    session: AsyncSession,
    storage: Storage,
    user: User,
    avatar_id: int,
    *,
    video: str = DEFAULT_VIDEO,
    registry: Registry | None = None,
) -> CallAvatar:
    """The user's avatar ready to call; BadInput if it has no photo yet.

    The voice backend is pinned in `backends` (the avatar's choice, else `registry`'s default) and
    `VoiceProfile.learned` holds what that backend, and only it, learned from the samples.
    """
    avatar = await owned_avatar(session, user, avatar_id)
    size = video_size(video)
    image = await session.scalar(
        select(AvatarImage)
        .where(AvatarImage.avatar_id == avatar.id)
        .order_by(AvatarImage.is_primary.desc(), AvatarImage.id)
        .limit(1)
    )
    if image is None:
        raise BadInput(f"{avatar.name} has no photo yet", hint=f"upload one: POST /avatars/{avatar.id}/photos")
    personality = await session.get(Personality, avatar.id)
    memories = list(await session.scalars(select(Memory.text).where(Memory.avatar_id == avatar.id).order_by(Memory.id)))
    samples = list(
        (
            await session.execute(
                select(VoiceSample.id, VoiceSample.path)
                .where(VoiceSample.avatar_id == avatar.id)
                .order_by(VoiceSample.id)
            )
        ).all()
    )
    backends = {k: str(v) for k, v in (avatar.backends or {}).items()}
    voice = voice_backend_for(avatar, registry)
    learned: dict[str, Any] = {}
    if voice is not None:
        backends[BackendKind.VOICE.value] = voice
        learned = voice_profiles.usable_learned(avatar.voice_profile, voice, [i for i, _ in samples])
    return CallAvatar(
        face=face_for(image, storage, avatar.id, size),
        sheet=sheet_for(avatar, personality, memories),
        voice=VoiceProfile(samples=tuple(storage.resolve(p) for _, p in samples), learned=learned),
        backends=backends,
        avatar_id=avatar.id,
    )


def voice_backend_for(avatar: Avatar, registry: Registry | None) -> str | None:
    """The voice backend a call of this avatar uses: its own choice, else the registry default.

    Without a registry, the one backend that has a stored likeness (the default when it learned),
    so the likeness is used and still only ever by the backend that made it; None if undecided.
    """
    chosen = (avatar.backends or {}).get(BackendKind.VOICE.value)
    if chosen:
        return str(chosen)
    if registry is not None:
        return registry.file.defaults.get(BackendKind.VOICE.value) or None
    learned = voice_profiles.learned_backends(avatar.voice_profile)
    return learned[0] if len(learned) == 1 else None


def face_for(image: AvatarImage, storage: Storage, avatar_id: int, size: tuple[int, int]) -> AvatarFace:
    """The photo as the animator gets it; `cache_dir` is where per-photo preparation is kept."""
    return AvatarFace(
        photo=storage.resolve(image.path),
        landmarks=landmark_points(image.face_landmarks),
        cache_dir=storage.avatar_dir(avatar_id) / "cache",
        size=size,
    )


def video_size(name: str) -> tuple[int, int]:
    try:
        return VIDEO_SIZES[name]
    except KeyError:
        raise BadInput(f"unknown video size {name!r}", hint="use one of: " + ", ".join(VIDEO_SIZES)) from None


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


def landmark_points(stored: Any) -> tuple[tuple[float, float], ...]:
    """Landmarks as stored by photo upload ({"points": [[x, y, ...], ...]}) as (x, y) pairs."""
    points = stored.get("points", []) if isinstance(stored, dict) else stored or []
    out = []
    for point in points:
        if isinstance(point, (list, tuple)) and len(point) >= 2:
            out.append((float(point[0]), float(point[1])))
    return tuple(out)
