"""Turns an avatar's rows and files into what a call needs (face, persona sheet, voice)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.backends import AvatarFace, PersonaSheet, VoiceProfile
from server.db.models import Avatar, AvatarImage, Memory, Personality, User, VoiceSample
from server.domain.avatars import owned_avatar
from server.errors import BadInput
from server.pipeline.backends import CallAvatar
from server.storage import Storage

VIDEO_SIZES: dict[str, tuple[int, int]] = {"512": (512, 512), "720p": (1280, 720)}


async def call_avatar(
    session: AsyncSession, storage: Storage, user: User, avatar_id: int, *, video: str = "512"
) -> CallAvatar:
    """The user's avatar ready to call; BadInput if it has no photo yet."""
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
        await session.scalars(
            select(VoiceSample.path).where(VoiceSample.avatar_id == avatar.id).order_by(VoiceSample.id)
        )
    )
    return CallAvatar(
        face=AvatarFace(
            photo=storage.resolve(image.path),
            landmarks=landmark_points(image.face_landmarks),
            cache_dir=storage.avatar_dir(avatar.id) / "cache",
            size=size,
        ),
        sheet=sheet_for(avatar, personality, memories),
        voice=VoiceProfile(
            samples=tuple(storage.resolve(p) for p in samples), learned=dict(avatar.voice_profile or {})
        ),
        backends={k: str(v) for k, v in (avatar.backends or {}).items()},
        avatar_id=avatar.id,
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
