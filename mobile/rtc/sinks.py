"""Where remote media goes: avatar video to a frame target (a Kivy texture), audio to a speaker.

Sinks pull from the remote track until it ends or they are cancelled; they count what they
handled, which is how tests (and the debug overlay) know frames and sound really arrived.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger(__name__)

PLAYBACK_RATE = 48_000


class FrameTarget(Protocol):
    def show(self, rgb: np.ndarray) -> None:
        """Draw one RGB uint8 frame of shape (h, w, 3)."""


class AudioOutput(Protocol):
    def write(self, pcm: bytes) -> None:
        """Play 16-bit mono PCM at PLAYBACK_RATE; must not block for long."""

    def close(self) -> None: ...


class NullAudioOutput:
    """Counts what would have been played (no speaker, or tests); `missing` when it stands in for
    a speaker that could not be opened (the call screen then says so)."""

    def __init__(self, *, missing: str = "") -> None:
        self.samples = 0
        self.peak = 0
        self.missing = missing

    def write(self, pcm: bytes) -> None:
        data = np.frombuffer(pcm, dtype=np.int16)
        self.samples += len(data)
        if len(data):
            self.peak = max(self.peak, int(np.abs(data.astype(np.int32)).max()))

    def close(self) -> None:
        pass


class VideoSink:
    """Pulls avatar frames and draws each on the target."""

    def __init__(self, target: FrameTarget) -> None:
        self.target = target
        self.frames = 0
        self.size: tuple[int, int] | None = None

    async def run(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.VideoFrame):
                continue
            rgb = frame.to_ndarray(format="rgb24")
            self.size = (frame.width, frame.height)
            self.target.show(rgb)
            self.frames += 1


class AudioSink:
    """Pulls avatar audio, converts it to 48 kHz mono s16 and hands it to the output."""

    def __init__(self, output: AudioOutput) -> None:
        self.output = output
        self.samples = 0
        self.last_audio_at: float | None = None  # monotonic time of the newest audio frame
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=PLAYBACK_RATE)

    async def run(self, track: MediaStreamTrack) -> None:
        """Play until the track ends; the output stays open for the next track (reconnects)."""
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.AudioFrame):
                continue
            self.last_audio_at = time.monotonic()
            for out in self._resampler.resample(frame):
                pcm = out.to_ndarray().tobytes()
                self.samples += out.samples
                self.output.write(pcm)


def default_audio_output() -> AudioOutput:
    """The speaker: Android's AudioTrack, `sounddevice` on a desktop if installed, else nothing."""
    from kivy.utils import platform

    if platform == "android":
        from mobile.android_media import AndroidAudioOutput

        return AndroidAudioOutput(PLAYBACK_RATE)
    try:
        from mobile.rtc.speaker import SoundDeviceOutput

        return SoundDeviceOutput(PLAYBACK_RATE)
    except Exception as exc:  # noqa: BLE001 - no PortAudio or no device: the call still works, silently
        log.warning("no speaker (%s); avatar audio will not be heard", exc)
        return NullAudioOutput(missing=str(exc) or type(exc).__name__)


async def drain(task: asyncio.Task[None] | None) -> None:
    """Cancel a sink task and wait for it, letting our own cancellation through."""
    if task is None or task.done():
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
