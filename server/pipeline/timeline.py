"""The avatar's outgoing media on one clock: 48 kHz sample counts, video frame j at sample j*1920.

The voice writes audio at a reserved start sample, the animator writes frames at the matching
indices, and the tracks read both as they play. Nothing here looks at the wall clock, which is
what keeps the lips on the voice; a flush (barge-in) drops everything not yet played.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

import msgspec
import numpy as np

from server.media import VideoFrame
from server.media.types import VIDEO_FPS

RATE = 48000
AUDIO_FRAME = RATE // 50  # 20 ms, what one Opus packet carries
SAMPLES_PER_FRAME = RATE // VIDEO_FPS  # 1920


class TimelineStats(msgspec.Struct):
    audio_frames: int = 0
    speech_audio_frames: int = 0
    video_frames: int = 0
    speech_video_frames: int = 0
    late_video_frames: int = 0  # a speech frame was due but not rendered in time
    flushes: int = 0
    last_flush_sample: int | None = None  # the first sample that played silence instead of speech


class MediaTimeline:
    """Scheduled speech audio and rendered frames, read in order by the audio and video tracks."""

    def __init__(self) -> None:
        self.segments: deque[tuple[int, np.ndarray]] = deque()
        self.frames: dict[int, VideoFrame] = {}
        self.audio_position = 0  # next sample the audio track plays
        self.video_position = 0  # next frame index the video track shows
        self.speech_end = 0  # first sample after all scheduled speech
        self.speech_ranges: deque[tuple[int, int]] = deque()  # [start, end) in samples, for late checks
        self.stats = TimelineStats()
        self._played_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._frame_waiters: dict[int, asyncio.Future[None]] = {}

    # -- writing -------------------------------------------------------------------------------

    def reserve(self, lead_samples: int) -> int:
        """A start sample for new speech: after what is queued, at least `lead_samples` ahead, on a frame edge."""
        start = max(self.audio_position + lead_samples, self.speech_end)
        return -(-start // SAMPLES_PER_FRAME) * SAMPLES_PER_FRAME

    def add_audio(self, start: int, samples: np.ndarray) -> None:
        if len(samples) == 0:
            return
        end = start + len(samples)
        self.segments.append((start, samples.astype(np.int16, copy=False)))
        self.speech_end = max(self.speech_end, end)
        if self.speech_ranges and self.speech_ranges[-1][1] >= start:
            self.speech_ranges[-1] = (self.speech_ranges[-1][0], max(end, self.speech_ranges[-1][1]))
        else:
            self.speech_ranges.append((start, end))

    def add_frame(self, index: int, frame: VideoFrame) -> None:
        if index >= self.video_position:
            self.frames[index] = frame
            waiter = self._frame_waiters.pop(index, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def flush(self) -> None:
        """Drop every sample and frame not yet played (barge-in)."""
        self.segments.clear()
        self.frames.clear()
        self.speech_ranges.clear()
        self.speech_end = self.audio_position
        self.stats.flushes += 1
        self.stats.last_flush_sample = self.audio_position
        self._wake(everyone=True)

    # -- reading -------------------------------------------------------------------------------

    def read_audio(self, count: int = AUDIO_FRAME) -> tuple[np.ndarray, bool]:
        """The next `count` samples (silence where nothing is scheduled) and whether any was speech."""
        begin, end = self.audio_position, self.audio_position + count
        out = np.zeros(count, np.int16)
        speech = False
        while self.segments:
            start, samples = self.segments[0]
            stop = start + len(samples)
            if stop <= begin:
                self.segments.popleft()
                continue
            if start >= end:
                break
            lo, hi = max(start, begin), min(stop, end)
            out[lo - begin : hi - begin] = samples[lo - start : hi - start]
            speech = True
            if stop > end:
                break
            self.segments.popleft()
        self.audio_position = end
        self.stats.audio_frames += 1
        self.stats.speech_audio_frames += int(speech)
        if self._played_waiters:
            self._wake()
        return out, speech

    def take_frame(self, index: int) -> VideoFrame | None:
        """The rendered frame for `index` if any; older ones are dropped."""
        for old in [i for i in self.frames if i < index]:
            del self.frames[old]
        self.video_position = index + 1
        return self.frames.pop(index, None)

    def in_speech(self, index: int) -> bool:
        """Whether frame `index` falls inside scheduled speech (so a missing frame is late)."""
        sample = index * SAMPLES_PER_FRAME
        while self.speech_ranges and self.speech_ranges[0][1] <= sample - RATE:
            self.speech_ranges.popleft()
        return any(start <= sample < end for start, end in self.speech_ranges)

    @property
    def speaking(self) -> bool:
        return self.speech_end > self.audio_position

    # -- waiting on playback ---------------------------------------------------------------------

    async def played(self, sample: int, flushes: int | None = None) -> bool:
        """Wait until playback has passed `sample`: True, or False if a flush (after the `flushes`
        count given, default now) dropped it before it played."""
        since = self.stats.flushes if flushes is None else flushes
        while True:
            if self.stats.flushes != since:
                flushed_at = self.stats.last_flush_sample
                return flushed_at is not None and flushed_at >= sample
            if self.audio_position >= sample:
                return True
            waiter = asyncio.get_running_loop().create_future()
            self._played_waiters.append((sample, waiter))
            try:
                await waiter
            finally:
                if not waiter.done():
                    waiter.cancel()

    async def frame_ready(self, index: int, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for frame `index` to be rendered; whether it is there."""
        if index in self.frames:
            return True
        waiter = self._frame_waiters.get(index)
        if waiter is None or waiter.done():
            waiter = self._frame_waiters[index] = asyncio.get_running_loop().create_future()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiter), timeout_s)
        if self._frame_waiters.get(index) is waiter and not waiter.done():
            del self._frame_waiters[index]
            waiter.cancel()
        return index in self.frames

    def _wake(self, *, everyone: bool = False) -> None:
        keep = []
        for sample, waiter in self._played_waiters:
            if everyone or self.audio_position >= sample or waiter.done():
                if not waiter.done():
                    waiter.set_result(None)
            else:
                keep.append((sample, waiter))
        self._played_waiters = keep
