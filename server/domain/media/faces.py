"""A stored photo as an animator gets it: the file, its landmarks, the output size, the cache folder."""

from __future__ import annotations

from typing import Any

from server.backends import AvatarFace
from server.db.models import AvatarImage
from server.errors import BadInput
from server.storage import Storage

VIDEO_SIZES: dict[str, tuple[int, int]] = {"512": (512, 512), "720p": (1280, 720)}
DEFAULT_VIDEO = "512"  # what a call gets unless it asks; the size photos are prepared for at upload


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


def landmark_points(stored: Any) -> tuple[tuple[float, float], ...]:
    """Landmarks as stored by photo upload ({"points": [[x, y, ...], ...]}) as (x, y) pairs."""
    points = stored.get("points", []) if isinstance(stored, dict) else stored or []
    out = []
    for point in points:
        if isinstance(point, (list, tuple)) and len(point) >= 2:
            out.append((float(point[0]), float(point[1])))
    return tuple(out)
