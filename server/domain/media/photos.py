"""Avatar photos: validated, face-checked, stored as JPEG; the first becomes primary."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Avatar, AvatarImage, possible_id, utcnow
from server.domain.media import schemas
from server.domain.media.uploads import store_then_commit
from server.errors import NotFound
from server.media.images import decode_image, encode_for_storage
from server.settings import Limits
from server.storage import Storage

if TYPE_CHECKING:
    from server.domain.media.preparation import MediaPreparer
    from server.face.analysis import FaceAnalysis


def _fields(image: AvatarImage) -> dict[str, Any]:
    face = image.face_landmarks or {}
    return {
        "id": image.id,
        "width": image.width,
        "height": image.height,
        "is_primary": image.is_primary,
        "quality_score": image.quality_score,
        "quality": dict(image.quality or {}),
        "bbox": list(face.get("bbox", [])),
        "landmark_count": len(face.get("points", [])),
        "created_at": image.created_at,
    }


def photo_read(image: AvatarImage) -> schemas.PhotoRead:
    return schemas.PhotoRead(**_fields(image))


def photo_detail(image: AvatarImage) -> schemas.PhotoDetail:
    """With the landmarks: several hundred points, so only for one photo at a time."""
    return schemas.PhotoDetail(**_fields(image), landmarks=list((image.face_landmarks or {}).get("points", [])))


def _plain(value: Any) -> Any:
    """JSON-safe builtins (numpy scalars and arrays become floats and lists)."""

    def enc(obj: Any) -> Any:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        raise NotImplementedError(type(obj))

    return msgspec.to_builtins(value, enc_hook=enc)


def _analyse(data: bytes, limits: Limits) -> tuple[bytes, int, int, FaceAnalysis]:
    """Blocking: decode, find the face (BadInput if none), encode the copy to keep."""
    from server.face.analysis import analyze_photo  # loads the face models on first use

    image = decode_image(data, limits)
    face = analyze_photo(image.rgb)
    encoded, _ = encode_for_storage(image.rgb)
    return encoded, image.width, image.height, face


async def add(
    session: AsyncSession, storage: Storage, avatar: Avatar, data: bytes, limits: Limits, media: MediaPreparer
) -> AvatarImage:
    """Check and store a photo (all or nothing); a new primary photo is prepared in the background."""
    encoded, width, height, face = await asyncio.to_thread(_analyse, data, limits)
    path = storage.new_avatar_file(avatar.id, "photos", ".jpg")

    async def add_row() -> AvatarImage:
        # Concurrent first uploads must not both become primary: writing the avatar row first takes
        # its lock (SQLite: the database's), and the locking read then sees what others committed.
        await session.execute(update(Avatar).where(Avatar.id == avatar.id).values(updated_at=utcnow()))
        has_primary = await session.scalar(
            select(AvatarImage.id)
            .where(AvatarImage.avatar_id == avatar.id, AvatarImage.is_primary.is_(True))
            .limit(1)
            .with_for_update()
        )
        image = AvatarImage(
            avatar_id=avatar.id,
            path=path,
            width=width,
            height=height,
            is_primary=has_primary is None,
            face_landmarks={"points": _plain(face.landmarks), "bbox": _plain(face.bbox)},
            quality_score=float(face.quality_score),
            quality=_plain(face.quality),
        )
        session.add(image)
        await session.flush()
        return image

    image = await store_then_commit(session, storage, path, encoded, add_row)
    await session.refresh(image)
    if image.is_primary:
        await media.photo_changed(session, avatar.id)
    return image


async def owned_photo(session: AsyncSession, avatar: Avatar, photo_id: int) -> AvatarImage:
    if not possible_id(photo_id):
        raise NotFound(f"no photo {photo_id} for this avatar")
    image = await session.scalar(
        select(AvatarImage).where(AvatarImage.id == photo_id, AvatarImage.avatar_id == avatar.id)
    )
    if image is None:
        raise NotFound(f"no photo {photo_id} for this avatar")
    return image


async def list_for(session: AsyncSession, avatar: Avatar) -> list[AvatarImage]:
    return list(
        await session.scalars(select(AvatarImage).where(AvatarImage.avatar_id == avatar.id).order_by(AvatarImage.id))
    )


async def set_primary(session: AsyncSession, avatar: Avatar, image: AvatarImage, media: MediaPreparer) -> AvatarImage:
    """Make `image` the photo that is animated; it is prepared in the background."""
    was_primary = image.is_primary
    await session.execute(update(AvatarImage).where(AvatarImage.avatar_id == avatar.id).values(is_primary=False))
    await session.execute(update(AvatarImage).where(AvatarImage.id == image.id).values(is_primary=True))
    await session.commit()  # the preparation job reads it from its own session
    await session.refresh(image)
    if not was_primary:
        await media.photo_changed(session, avatar.id)
    return image


async def remove(
    session: AsyncSession, storage: Storage, avatar: Avatar, image: AvatarImage, media: MediaPreparer
) -> None:
    """Delete one photo; if it was primary, the best remaining photo takes its place (and is prepared)."""
    was_primary = image.is_primary
    path = image.path
    await session.delete(image)
    await session.flush()
    if was_primary:
        best = await session.scalar(
            select(AvatarImage)
            .where(AvatarImage.avatar_id == avatar.id)
            .order_by(AvatarImage.quality_score.desc(), AvatarImage.id)
            .limit(1)
        )
        if best is not None:
            best.is_primary = True
    await session.commit()
    storage.delete(path)
    if was_primary:
        await media.photo_changed(session, avatar.id)
