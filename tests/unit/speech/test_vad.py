from __future__ import annotations

import numpy as np
import pytest

from server.media import AudioChunk
from server.speech.testing import silence
from server.speech.vad import VadEndpointer, VadEventKind

pytest.importorskip("onnxruntime")
pytest.importorskip("faster_whisper")


def _feed(endpointer: VadEndpointer, audio: np.ndarray, rate: int, chunk_ms: int = 20) -> list:
    step = rate * chunk_ms // 1000
    events = []
    for i in range(0, len(audio), step):
        events += endpointer.feed(AudioChunk.from_float(audio[i : i + step], rate, pts=i))
    return events


def test_speech_then_silence_gives_start_then_end(spoken: tuple[np.ndarray, int]) -> None:
    speech, rate = spoken
    lead = 0.5
    audio = np.concatenate([silence(lead, rate), speech, silence(1.5, rate)])
    events = _feed(VadEndpointer(silence_ms=500), audio, rate)
    assert [e.kind for e in events] == [VadEventKind.SPEECH_START, VadEventKind.SPEECH_END]
    start, end = events
    speech_end = lead + len(speech) / rate
    assert abs(start.time - lead) < 0.25
    assert speech_end - 0.4 < end.time < speech_end + 0.2
    assert end.sample == pytest.approx(end.time * rate, abs=1)


def test_silence_threshold_decides_when_the_end_fires(spoken: tuple[np.ndarray, int]) -> None:
    speech, rate = spoken
    audio = np.concatenate([speech, silence(0.4, rate)])
    assert [e.kind for e in _feed(VadEndpointer(silence_ms=250), audio, rate)] == [
        VadEventKind.SPEECH_START,
        VadEventKind.SPEECH_END,
    ]
    assert [e.kind for e in _feed(VadEndpointer(silence_ms=800), audio, rate)] == [VadEventKind.SPEECH_START]


def test_silence_and_noise_alone_never_start_speech() -> None:
    rate = 16000
    rng = np.random.default_rng(0)
    audio = np.concatenate([silence(1.0, rate), (0.003 * rng.standard_normal(rate * 2)).astype(np.float32)])
    assert _feed(VadEndpointer(), audio, rate) == []


def test_chunk_size_and_rate_do_not_change_the_events(spoken: tuple[np.ndarray, int]) -> None:
    speech, rate = spoken
    audio = np.concatenate([silence(0.3, rate), speech, silence(1.0, rate)])
    a = _feed(VadEndpointer(silence_ms=400), audio, rate, chunk_ms=10)
    b = _feed(VadEndpointer(silence_ms=400), audio, rate, chunk_ms=100)
    assert [e.kind for e in a] == [e.kind for e in b]
    assert all(abs(x.time - y.time) < 0.05 for x, y in zip(a, b, strict=True))


def test_reset_forgets_an_utterance_in_progress(spoken: tuple[np.ndarray, int]) -> None:
    speech, rate = spoken
    endpointer = VadEndpointer(silence_ms=300)
    _feed(endpointer, speech[: rate // 2], rate)
    assert endpointer.in_speech
    endpointer.reset()
    assert not endpointer.in_speech
    assert _feed(endpointer, silence(1.0, rate), rate) == []
