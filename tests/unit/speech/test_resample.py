from __future__ import annotations

import itertools

import numpy as np
import pytest

from server.media import AudioChunk
from server.speech.resample import StreamResampler, resample, resample_chunk


def _tone(freq: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize(("src", "dst"), [(48000, 16000), (22050, 16000), (16000, 48000), (22050, 48000)])
def test_resample_keeps_length_in_time_and_pitch(src: int, dst: int) -> None:
    y = resample(_tone(440, src), src, dst)
    assert abs(len(y) - dst) <= 2
    assert abs(_peak_hz(y, dst) - 440) < 3


def test_stream_resampler_matches_whole_signal_without_edge_clicks() -> None:
    x = _tone(300, 48000, 2.0)
    stream = StreamResampler(48000, 16000)
    pieces = [stream.process(x[i : i + 960]) for i in range(0, len(x), 960)]
    pieces.append(stream.process(np.zeros(0, dtype=np.float32), last=True))
    y = np.concatenate(pieces)
    whole = resample(x, 48000, 16000)
    assert len(y) == len(whole)
    assert np.max(np.abs(y - whole)) < 1e-3


def test_stream_resampler_chunk_pts_count_output_samples() -> None:
    stream = StreamResampler(48000, 16000)
    x = _tone(300, 48000, 0.2)
    chunks = [stream.chunk(AudioChunk.from_float(x[i : i + 960], 48000, pts=i)) for i in range(0, len(x), 960)]
    for before, after in itertools.pairwise(chunks):
        assert after.pts == before.pts + len(before.samples)
    assert all(c.sample_rate == 16000 for c in chunks)


def test_resample_chunk_rescales_pts() -> None:
    chunk = AudioChunk.from_float(_tone(200, 48000, 0.1), 48000, pts=48000)
    out = resample_chunk(chunk, 16000)
    assert out.pts == 16000 and out.sample_rate == 16000 and abs(out.duration - 0.1) < 1e-3


def test_bad_rate_is_an_error() -> None:
    with pytest.raises(ValueError):
        resample(np.zeros(10, dtype=np.float32), 0, 16000)
