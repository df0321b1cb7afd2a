"""Cuts an audio stream into 40 ms frames by sample count and keeps the phoneme timings that
come with it on the stream's own clock, so every frame knows exactly which sound it shows."""

from __future__ import annotations

import numpy as np

from plugins.warp.audio_drive import AudioFeatures
from server.media import AudioChunk, PhonemeTiming
from server.media.types import VIDEO_FPS

RESTART_S = 0.5  # phoneme times this far behind the chunk mean a new utterance has begun


class FrameClock:
    """Buffers audio; frame i covers samples [i*rate/25, (i+1)*rate/25) of the stream."""

    def __init__(self) -> None:
        self.rate = 0
        self.buffer = np.zeros(0, np.float32)
        self.buffer_start = 0  # stream sample index of buffer[0]
        self.first_frame: int | None = None
        self.next_frame = 0  # the next frame whose features are not computed yet
        self.features: dict[int, tuple[float, float, float]] = {}
        self.analyser = AudioFeatures()
        self.phonemes: list[PhonemeTiming] = []  # on the stream clock, seconds
        self.origin: float | None = None  # stream time of the current utterance's start
        self.ended = False

    def bounds(self, index: int) -> tuple[int, int]:
        return round(index * self.rate / VIDEO_FPS), round((index + 1) * self.rate / VIDEO_FPS)

    @property
    def end(self) -> int:
        return self.buffer_start + len(self.buffer)

    def add(self, chunk: AudioChunk) -> None:
        """Append a chunk at its pts (gaps become silence, overlaps are dropped)."""
        if self.first_frame is None:
            self.rate = chunk.sample_rate
            self.first_frame = chunk.pts * VIDEO_FPS // self.rate
            self.next_frame = self.first_frame
            self.buffer_start = self.bounds(self.first_frame)[0]
        elif chunk.sample_rate != self.rate:
            raise ValueError(f"sample rate changed mid-stream ({self.rate} -> {chunk.sample_rate})")
        samples = chunk.as_float()
        if chunk.pts > self.end:
            samples = np.concatenate([np.zeros(chunk.pts - self.end, np.float32), samples])
        elif chunk.pts < self.end:
            samples = samples[self.end - chunk.pts :]
        self.buffer = np.concatenate([self.buffer, samples])
        if chunk.phonemes:
            self._add_phonemes(chunk)

    def _add_phonemes(self, chunk: AudioChunk) -> None:
        start = chunk.start
        earliest = min(p.start for p in chunk.phonemes)
        if self.origin is None:
            self.origin = self.first_frame / VIDEO_FPS if self.first_frame is not None else start
        if self.origin + earliest < start - RESTART_S:
            self.origin = start  # times restarted: this chunk opens a new utterance
        cutoff = start - 2.0
        self.phonemes = [p for p in self.phonemes if p.end > cutoff]
        self.phonemes.extend(
            PhonemeTiming(p.phoneme, p.start + self.origin, p.end + self.origin) for p in chunk.phonemes
        )

    def analyse_ready(self) -> None:
        """Compute features for every frame whose audio is complete (all of them once ended)."""
        while True:
            lo, hi = self.bounds(self.next_frame)
            if hi > self.end and not (self.ended and lo < self.end):
                return
            part = self.buffer[max(0, lo - self.buffer_start) : max(0, hi - self.buffer_start)]
            self.features[self.next_frame] = self.analyser.frame(part, self.rate)
            self.next_frame += 1
            drop = self.bounds(self.next_frame)[0] - self.buffer_start
            if drop > 0:
                self.buffer = self.buffer[drop:]
                self.buffer_start += drop
            self.features.pop(self.next_frame - 4, None)

    def feature(self, index: int) -> tuple[float, float, float]:
        return self.features.get(index, (0.0, 0.0, 0.0))
