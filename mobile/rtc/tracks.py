"""Local tracks we send: a mic that can be muted and never starves, a camera that can be turned off.

Both wrap a source track (a MediaPlayer on desktop, the phone's own capture on Android) and
re-time what they emit from their own sample/frame counters, so muting, a late start or the end
of a file never makes timestamps jump or the stream stop: the server's VAD needs the silence
after speech to know the person has finished.
"""

from __future__ import annotations

import asyncio
import collections
import fractions
import time
from collections.abc import Callable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

AUDIO_RATE = 48_000
AUDIO_PTIME = 0.020
VIDEO_CLOCK = 90_000
VIDEO_FPS = 25


def silent_audio_frame(
    samples: int = int(AUDIO_RATE * AUDIO_PTIME), rate: int = AUDIO_RATE, layout: str = "mono"
) -> av.AudioFrame:
    """A frame of s16 zeros; the caller sets pts."""
    frame = av.AudioFrame(format="s16", layout=layout, samples=samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = rate
    frame.time_base = fractions.Fraction(1, rate)
    return frame


def frame_level(frame: av.AudioFrame) -> float:
    """RMS loudness in [0, 1] of an s16 frame (any layout); 0 for other formats."""
    if frame.format.name != "s16":
        return 0.0
    pcm = frame.to_ndarray().astype(np.float32) / 32768.0
    return float(np.sqrt(np.mean(pcm * pcm))) if pcm.size else 0.0


class _Pacer:
    """Sleeps until the wall clock reaches a stream position, counted from the first call."""

    def __init__(self) -> None:
        self._t0: float | None = None

    async def wait_until(self, seconds: float) -> None:
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now - seconds
        delay = self._t0 + seconds - now
        if delay > 0:
            await asyncio.sleep(delay)


class MicTrack(MediaStreamTrack):
    """The mic we send: `lead_s` of silence, then the source, then silence forever; mutable."""

    kind = "audio"

    def __init__(
        self, source: MediaStreamTrack | None, *, lead_s: float = 0.0, on_level: Callable[[float], None] | None = None
    ) -> None:
        super().__init__()
        self._source = source
        self._lead_samples = int(lead_s * AUDIO_RATE)
        self._pts = 0
        self._pacer = _Pacer()
        self.muted = False
        self.on_level = on_level
        self.source_ended = source is None
        self.level = 0.0
        self.sent = 0  # frames handed to the connection (50 a second when nothing starves it)
        self._resampler = av.AudioResampler(
            format="s16", layout="mono", rate=AUDIO_RATE, frame_size=int(AUDIO_RATE * AUDIO_PTIME)
        )
        self._pending: collections.deque[av.AudioFrame] = collections.deque()

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._next_source_frame() if self._pts >= self._lead_samples else None
        if frame is None:
            frame = silent_audio_frame()
        elif self.muted:
            frame = silent_audio_frame(frame.samples)
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        await self._pacer.wait_until(self._pts / AUDIO_RATE)
        self._pts += frame.samples
        self.sent += 1
        self.level = frame_level(frame)
        if self.on_level is not None:
            self.on_level(self.level)
        return frame

    async def _next_source_frame(self) -> av.AudioFrame | None:
        """The next 20 ms of the source as s16 mono 48 kHz (the encoder wants one format throughout)."""
        while not self._pending:
            if self._source is None or self.source_ended:
                return None
            try:
                frame = await self._source.recv()
            except MediaStreamError:
                self.source_ended = True
                return None
            if isinstance(frame, av.AudioFrame):
                frame.pts = None  # the resampler re-times; we set pts ourselves
                self._pending.extend(self._resampler.resample(frame))
        return self._pending.popleft()

    def stop(self) -> None:
        super().stop()
        if self._source is not None:
            self._source.stop()


class CameraTrack(MediaStreamTrack):
    """The camera we send: frames from the source, black while turned off; shows a preview."""

    kind = "video"

    def __init__(
        self,
        source: MediaStreamTrack | None,
        *,
        on_preview: Callable[[av.VideoFrame], None] | None = None,
        preview_every: int = 2,
    ) -> None:
        super().__init__()
        self._source = source
        self._index = 0
        self._pacer = _Pacer()
        self._size = (320, 240)
        self._t0: float | None = None
        self._last_pts = -1
        self.enabled = source is not None
        self.on_preview = on_preview
        self.preview_every = max(1, preview_every)
        self.source_ended = source is None

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._next_source_frame() if self.enabled else None
        if frame is None:
            await self._pacer.wait_until(self._index / VIDEO_FPS)
            frame = av.VideoFrame.from_ndarray(np.zeros((self._size[1], self._size[0], 3), np.uint8), format="rgb24")
        else:
            self._size = (frame.width, frame.height)
            if self.on_preview is not None and self._index % self.preview_every == 0:
                self.on_preview(frame)
        # Camera time is wall-clock time: a real camera's rate is not ours to choose.
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        frame.pts = max(int((now - self._t0) * VIDEO_CLOCK), self._last_pts + 1)
        self._last_pts = frame.pts
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self._index += 1
        return frame

    async def _next_source_frame(self) -> av.VideoFrame | None:
        if self._source is None or self.source_ended:
            return None
        try:
            frame = await self._source.recv()
        except MediaStreamError:
            self.source_ended = True
            return None
        return frame if isinstance(frame, av.VideoFrame) else None

    def stop(self) -> None:
        super().stop()
        if self._source is not None:
            self._source.stop()
