"""The avatar's outgoing tracks: 20 ms of 48 kHz audio and one 25 fps frame per `recv()`.

Both are paced by their own sample count / frame index against one shared clock, and never
starve: the session gives silence and idle frames when nobody speaks. A frame that is not ready
when due is replaced by the previous one and counted as late.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Protocol

import av
import msgspec
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from server.media import VideoFrame
from server.media.types import VIDEO_FPS
from server.pipeline.session import CallSession
from server.pipeline.timeline import AUDIO_FRAME, RATE
from server.rtc.clock import MediaClock

VIDEO_CLOCK = 90000
LATE_S = 1.0 / VIDEO_FPS  # a frame sent more than one frame period after its time is late
# Receivers hold audio a little longer than video before playing it (aiortc: 4 packets of audio,
# about one frame of video), so frames leave this much after their audio. Players that sync by
# RTCP (browsers) then show the face at most this late, which viewers notice far less than early.
VIDEO_DELAY_S = 0.03


class Tap(Protocol):
    """Something that sees the outgoing media (the call recorder)."""

    def avatar_audio(self, samples: np.ndarray, pts: int) -> None: ...

    def avatar_video(self, rgb: np.ndarray, index: int) -> None: ...


class VideoStats(msgspec.Struct):
    frames: int = 0
    late: int = 0  # not rendered in time, or sent more than a frame period late
    repeated: int = 0
    late_indices: list[int] = msgspec.field(default_factory=list)  # the first few, for diagnosis


class AvatarAudioTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, session: CallSession, clock: MediaClock, tap: Tap | None = None) -> None:
        super().__init__()
        self.session, self.clock, self.tap = session, clock, tap
        self.pts = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pts = self.pts
        await self.clock.wait_until(pts / RATE)
        samples, _ = self.session.read_audio()
        self.pts += AUDIO_FRAME
        if self.tap is not None:
            self.tap.avatar_audio(samples, pts)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = pts
        frame.time_base = Fraction(1, RATE)
        return frame


class AvatarVideoTrack(MediaStreamTrack):
    kind = "video"

    def __init__(
        self,
        session: CallSession,
        clock: MediaClock,
        size: tuple[int, int],
        tap: Tap | None = None,
        *,
        delay_s: float = VIDEO_DELAY_S,
    ) -> None:
        super().__init__()
        self.session, self.clock, self.size, self.tap, self.delay_s = session, clock, size, tap, delay_s
        self.index = 0
        self.last: np.ndarray | None = None
        self.stats = VideoStats()

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = self.index
        self.index += 1
        lateness = await self.clock.wait_until(index / VIDEO_FPS + self.delay_s)
        frame, late = await self.session.video_frame(index)
        image = self._image(frame)
        self.stats.frames += 1
        if late or lateness > LATE_S:
            self.stats.late += 1
            if len(self.stats.late_indices) < 50:
                self.stats.late_indices.append(index if late else -index)
        if self.tap is not None:
            self.tap.avatar_video(image, index)
        out = av.VideoFrame.from_ndarray(image, format="rgb24")
        out.pts = index * VIDEO_CLOCK // VIDEO_FPS
        out.time_base = Fraction(1, VIDEO_CLOCK)
        return out

    def _image(self, frame: VideoFrame | None) -> np.ndarray:
        if frame is not None:
            self.last = frame.image
            return frame.image
        self.stats.repeated += 1
        if self.last is None:
            self.last = np.zeros((self.size[1], self.size[0], 3), np.uint8)
        return self.last
