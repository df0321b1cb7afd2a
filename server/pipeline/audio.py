"""Conversions between WebRTC audio frames and the pipeline's int16 mono samples."""

from __future__ import annotations

import av
import numpy as np

from server.speech.resample import StreamResampler


def frame_to_mono(frame: av.AudioFrame) -> np.ndarray:
    """An incoming WebRTC audio frame (any layout, s16 or float) as mono int16 at its own rate."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        mono = data.mean(axis=0) if data.shape[0] > 1 else data[0]
    else:
        mono = data.reshape(-1, channels).mean(axis=1) if channels > 1 else data.reshape(-1)
    if data.dtype.kind == "f":
        mono = np.clip(mono, -1.0, 1.0) * 32767.0
    return np.asarray(mono).astype(np.int16)


def to_int16(audio: np.ndarray) -> np.ndarray:
    pcm: np.ndarray = (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)
    return pcm


class IntResampler:
    """int16 in, int16 out, streaming: StreamResampler (the project's one resampler) made for PCM."""

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        self.src_rate = src_rate
        self._stream = StreamResampler(src_rate, dst_rate)

    def convert(self, samples: np.ndarray) -> np.ndarray:
        return to_int16(self._stream.process(samples.astype(np.float32) / 32768.0))

    def flush(self) -> np.ndarray:
        return to_int16(self._stream.process(np.zeros(0, np.float32), last=True))
