"""The face: one photo brought to life, driven by the voice's audio."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any

import msgspec

from server.backends.base import Backend
from server.media import AudioChunk, AvatarState, Emotion, VideoFrame


class AvatarFace(msgspec.Struct, frozen=True):
    """The photo to animate and what upload already learned about it."""

    photo: Path
    landmarks: tuple[tuple[float, float], ...] = ()  # pixel coordinates in `photo`
    cache_dir: Path | None = None  # where the backend may keep per-photo preparation
    size: tuple[int, int] = (512, 512)  # output (width, height)
    extra: dict[str, Any] = msgspec.field(default_factory=dict)


class AnimatorBackend(Backend):
    """Renders frames for a stream of audio.

    One frame per 1/25 s of audio received, frame index from the audio's sample count, so video
    stays locked to the audio. Silent audio renders a living idle face in the given `state`.
    """

    @abstractmethod
    def animate(
        self,
        audio: AsyncIterable[AudioChunk],
        *,
        avatar: AvatarFace,
        emotion: Emotion = Emotion.NEUTRAL,
        state: AvatarState = AvatarState.SPEAKING,
    ) -> AsyncIterator[VideoFrame]:
        """Stream frames for the audio as it arrives."""

    async def prepare(self, avatar: AvatarFace) -> None:
        """Precompute per-photo data (masks, grids) into `avatar.cache_dir`; optional."""

    def keeps_up(self) -> bool:
        """Whether, loaded, it renders a live call's 25 frames/s here. A backend that does not is
        shown through the fallback animator in calls and renders their sentences afterwards."""
        return True
