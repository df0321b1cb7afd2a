"""basic-animator: the photo with a mouth that opens with the voice's loudness, blinks and sway.

One frame per 1/25 s of audio received, numbered from the audio's sample count. Cheap enough
(a few ms per 512x512 frame) to be the default until a real animator is installed.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from plugins.basic.face import FaceLayout, blink_amount, draw_frame, load_picture
from plugins.basic.faults import FaultConfig, Faults, variant_without_faults
from server.backends import AnimatorBackend, AvatarFace, BackendInfo, BackendKind
from server.media import AudioChunk, AvatarState, Emotion, VideoFrame
from server.media.types import VIDEO_FPS

FULL_OPEN_RMS = 0.12  # float RMS at which the mouth is fully open
SMOOTHING = 0.5  # share of the previous openness kept each frame, so the jaw does not flicker


class BasicAnimator(AnimatorBackend):
    info = BackendInfo(
        name="basic-animator",
        kind=BackendKind.ANIMATOR,
        description="Draws a loudness-driven mouth, blinks and head sway on the photo (tests, demos).",
        requires=("cv2",),
        install="pip install opencv-contrib-python==5.1.0.95",
        config=FaultConfig,
        docs="plugins/basic/README.md",
    )
    options: FaultConfig

    def __init__(
        self, config: Mapping[str, Any] | FaultConfig | None = None, *, weights_dir: Path | None = None
    ) -> None:
        super().__init__(config, weights_dir=weights_dir)
        self.faults = Faults(self.options, self.info.name)
        self._pictures: dict[tuple[Path, tuple[int, int], int], tuple[np.ndarray, FaceLayout]] = {}
        self.drawn: Counter[AvatarState] = Counter()  # frames drawn per state (tests count the work done)

    def render_variant(self) -> str:
        return variant_without_faults(self.config)

    async def prepare(self, avatar: AvatarFace) -> None:
        await self._picture(avatar)

    async def _picture(self, avatar: AvatarFace) -> tuple[np.ndarray, FaceLayout]:
        key = (avatar.photo, avatar.size, len(avatar.landmarks))
        if key not in self._pictures:
            self._pictures[key] = await asyncio.to_thread(load_picture, avatar)
        return self._pictures[key]

    async def animate(
        self,
        audio: AsyncIterable[AudioChunk],
        *,
        avatar: AvatarFace,
        emotion: Emotion = Emotion.NEUTRAL,
        state: AvatarState = AvatarState.SPEAKING,
    ) -> AsyncIterator[VideoFrame]:
        picture, layout = await self._picture(avatar)
        buffered = np.zeros(0, np.float32)
        first_index: int | None = None
        produced = 0
        openness = 0.0
        rate = 0
        async for chunk in audio:
            if first_index is None:
                rate = chunk.sample_rate
                first_index = chunk.pts * VIDEO_FPS // rate
            buffered = np.concatenate([buffered, chunk.as_float()])
            per_frame = rate / VIDEO_FPS
            count = int(len(buffered) // per_frame)
            if count == 0:
                continue
            used = round(count * per_frame)
            frames, openness = await asyncio.to_thread(
                _render, picture, layout, buffered[:used], count, first_index + produced, openness, emotion, state
            )
            buffered = buffered[used:]
            self.drawn[state] += len(frames)
            for frame in frames:
                await self.faults.before_item(produced)
                produced += 1
                yield frame
        if first_index is not None and len(buffered):  # a last partial frame still gets a picture
            frames, _ = await asyncio.to_thread(
                _render, picture, layout, buffered, 1, first_index + produced, openness, emotion, state
            )
            self.drawn[state] += 1
            await self.faults.before_item(produced)
            yield frames[0]


def _render(
    picture: np.ndarray,
    layout: FaceLayout,
    audio: np.ndarray,
    count: int,
    first_index: int,
    openness: float,
    emotion: Emotion,
    state: AvatarState,
) -> tuple[list[VideoFrame], float]:
    frames = []
    for i, part in enumerate(np.array_split(audio, count)):
        rms = float(np.sqrt(np.mean(part * part))) if len(part) else 0.0
        target = min(1.0, rms / FULL_OPEN_RMS)
        openness = SMOOTHING * openness + (1 - SMOOTHING) * target
        index = first_index + i
        t = index / VIDEO_FPS
        image = draw_frame(picture, layout, t=t, openness=openness, blink=blink_amount(t), emotion=emotion, state=state)
        frames.append(VideoFrame(image=image, index=index))
    return frames, openness
