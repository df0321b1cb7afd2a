"""The pipeline's int16 mono samples: from float, and resampled as a stream."""

from __future__ import annotations

import numpy as np

from server.speech.resample import StreamResampler


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
