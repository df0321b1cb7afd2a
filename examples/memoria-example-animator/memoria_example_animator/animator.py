"""example-breathing: the photo zooms in and out slowly and brightens with the voice's loudness.

Not a face engine: it shows the whole shape of an animator backend (settings as data, a cheap
`__init__`, work off the event loop, one frame per 1/25 s of audio numbered from the sample count)
in a few lines a hobbyist can start from.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from typing import Annotated

import msgspec
import numpy as np
from PIL import Image

from server.backends import AnimatorBackend, AvatarFace, BackendInfo, BackendKind
from server.media import AudioChunk, AvatarState, Emotion, VideoFrame
from server.media.types import VIDEO_FPS


class BreathingConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`[config.example-breathing]` in plugin_registry.toml."""

    zoom: Annotated[float, msgspec.Meta(ge=0.0, le=0.2)] = 0.03  # how far the slow zoom goes
    glow: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.25  # brightening at full loudness
    period_s: Annotated[float, msgspec.Meta(gt=0.5)] = 4.0  # one breath


class BreathingAnimator(AnimatorBackend):
    info = BackendInfo(
        name="example-breathing",
        kind=BackendKind.ANIMATOR,
        description="Example plugin: a slow zoom that brightens with the voice (see docs/plugins.md).",
        config=BreathingConfig,
        docs="examples/memoria-example-animator/README.md",
    )
    options: BreathingConfig

    async def animate(
        self,
        audio: AsyncIterable[AudioChunk],
        *,
        avatar: AvatarFace,
        emotion: Emotion = Emotion.NEUTRAL,
        state: AvatarState = AvatarState.SPEAKING,
    ) -> AsyncIterator[VideoFrame]:
        picture = await asyncio.to_thread(load, avatar)
        pending = np.zeros(0, np.float32)
        index: int | None = None
        async for chunk in audio:
            if index is None:
                index = chunk.pts * VIDEO_FPS // chunk.sample_rate
            pending = np.concatenate([pending, chunk.as_float()])
            per_frame = chunk.sample_rate // VIDEO_FPS
            while len(pending) >= per_frame:
                loudness = float(np.sqrt(np.mean(pending[:per_frame] ** 2)))
                pending = pending[per_frame:]
                image = await asyncio.to_thread(self.frame, picture, index, loudness)
                yield VideoFrame(image, index=index)
                index += 1

    def frame(self, picture: np.ndarray, index: int, loudness: float) -> np.ndarray:
        height, width = picture.shape[:2]
        breath = 0.5 - 0.5 * np.cos(2 * np.pi * index / (VIDEO_FPS * self.options.period_s))
        crop = 1.0 - self.options.zoom * breath
        h, w = round(height * crop), round(width * crop)
        top, left = (height - h) // 2, (width - w) // 2
        zoomed = Image.fromarray(picture[top : top + h, left : left + w]).resize((width, height), Image.BILINEAR)
        gain = 1.0 + self.options.glow * min(1.0, loudness / 0.12)
        return np.clip(np.asarray(zoomed, np.float32) * gain, 0, 255).astype(np.uint8)


def load(avatar: AvatarFace) -> np.ndarray:
    """The photo, centre-cropped to the output's aspect and resized to it."""
    with Image.open(avatar.photo) as opened:
        image = opened.convert("RGB")
    width, height = avatar.size
    scale = max(width / image.width, height / image.height)
    resized = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))))
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    return np.asarray(resized.crop((left, top, left + width, top + height)))
