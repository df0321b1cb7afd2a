"""Photos fetched from the server shown as Kivy textures, cached per (avatar, photo)."""

from __future__ import annotations

import io

from kivy.core.image import Image as CoreImage
from kivy.graphics.texture import Texture

from mobile.api import ApiClient

_cache: dict[tuple[str, int, int], Texture] = {}


async def photo_texture(api: ApiClient, avatar_id: int, photo_id: int) -> Texture:
    """Download a photo once and keep its texture for the session."""
    key = (api.base_url, avatar_id, photo_id)
    if key not in _cache:
        data = await api.photo_bytes(avatar_id, photo_id)
        _cache[key] = CoreImage(io.BytesIO(data), ext=_ext(data)).texture
    return _cache[key]


def _ext(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "png"
    if data[8:12] == b"WEBP":
        return "webp"
    return "jpg"


def forget(avatar_id: int) -> None:
    for key in [k for k in _cache if k[1] == avatar_id]:
        del _cache[key]
