"""Record a voice sample from the mic to a WAV file, reporting loudness for the level meter.

Uses the same sources as a call (mobile.rtc.media specs), so a desktop mic, the phone's mic and
a file in tests all record the same way.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from mobile.errors import AppError
from mobile.rtc.tracks import frame_level

RATE = 48_000
MAX_SECONDS = 300.0


class VoiceRecorder:
    """Start with `record()`, stop with `stop()`; the WAV is complete when `record()` returns."""

    def __init__(
        self, source: MediaStreamTrack, path: Path, *, on_level: Callable[[float, float], None] | None = None
    ) -> None:
        self.source = source
        self.path = path
        self.on_level = on_level  # (level 0..1, seconds so far)
        self.seconds = 0.0
        self.peak = 0.0
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def record(self, max_seconds: float = MAX_SECONDS) -> Path:
        """Record until stopped, the source ends, or `max_seconds`; returns the WAV path."""
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(self.path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            try:
                while not self._stop.is_set() and self.seconds < max_seconds:
                    frame = await self._next()
                    if frame is None:
                        break
                    for chunk in resampler.resample(frame):
                        pcm = chunk.to_ndarray().astype(np.int16)
                        out.writeframes(pcm.tobytes())
                        self.seconds += chunk.samples / RATE
                    level = min(1.0, frame_level(frame) * 4)  # speech RMS is ~0.05-0.2: scale for the eye
                    self.peak = max(self.peak, level)
                    if self.on_level is not None:
                        self.on_level(level, self.seconds)
            finally:
                self.source.stop()
        if self.seconds < 0.5:
            raise AppError("The recording is too short. Hold the phone close and speak for a few seconds.")
        return self.path

    async def _next(self) -> av.AudioFrame | None:
        stop = asyncio.ensure_future(self._stop.wait())
        recv = asyncio.ensure_future(self.source.recv())
        try:
            done, _ = await asyncio.wait({stop, recv}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not recv.done():
                recv.cancel()
        if recv not in done:
            return None
        try:
            frame = recv.result()
        except MediaStreamError:
            return None
        return frame if isinstance(frame, av.AudioFrame) else None
