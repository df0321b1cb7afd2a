"""The one place audio changes sample rate (libsoxr: high quality, streaming without edge clicks)."""

from __future__ import annotations

import numpy as np
import soxr

from server.media import AudioChunk


def resample(audio: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Float samples at `src_rate` -> float32 samples at `dst_rate`."""
    x = np.asarray(audio, dtype=np.float32)
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {src_rate} -> {dst_rate}")
    if src_rate == dst_rate or len(x) == 0:
        return x.copy()
    return np.asarray(soxr.resample(x, src_rate, dst_rate, quality="HQ"), dtype=np.float32)


def resample_chunk(chunk: AudioChunk, dst_rate: int) -> AudioChunk:
    """One chunk at `dst_rate` (whole utterances; use StreamResampler for a live stream)."""
    if chunk.sample_rate == dst_rate:
        return chunk
    out = AudioChunk.from_float(resample(chunk.as_float(), chunk.sample_rate, dst_rate), dst_rate)
    pts = round(chunk.pts * dst_rate / chunk.sample_rate)
    return AudioChunk(samples=out.samples, sample_rate=dst_rate, pts=pts, phonemes=chunk.phonemes)


class StreamResampler:
    """Resamples a live stream chunk by chunk, keeping filter state between chunks.

    Output pts come from the count of samples emitted, so stream time never drifts.
    """

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self._stream = (
            soxr.ResampleStream(src_rate, dst_rate, 1, dtype="float32", quality="HQ") if src_rate != dst_rate else None
        )
        self._emitted = 0

    def process(self, audio: np.ndarray, *, last: bool = False) -> np.ndarray:
        """Feed float samples; returns whatever output is ready (all of it when `last`)."""
        x = np.asarray(audio, dtype=np.float32)
        y = (
            x.copy()
            if self._stream is None
            else np.asarray(self._stream.resample_chunk(x, last=last), dtype=np.float32)
        )
        self._emitted += len(y)
        return y

    def chunk(self, chunk: AudioChunk, *, last: bool = False) -> AudioChunk:
        """Resample one AudioChunk of the stream; pts counts output samples."""
        pts = self._emitted
        y = self.process(chunk.as_float(), last=last)
        return AudioChunk(samples=AudioChunk.from_float(y, self.dst_rate).samples, sample_rate=self.dst_rate, pts=pts)
