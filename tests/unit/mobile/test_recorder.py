"""Recording a voice sample: a WAV of what the mic gave, live levels for the meter, Stop works,
and a recording too short to use is refused with advice."""

from __future__ import annotations

import asyncio
import fractions
import wave
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from mobile.errors import AppError
from mobile.recorder import RATE, VoiceRecorder


class Voice(MediaStreamTrack):
    """`seconds` of a loud 20 ms-framed tone (paced by `delay`), then the end of the source."""

    kind = "audio"

    def __init__(self, seconds: float, delay: float = 0.0) -> None:
        super().__init__()
        self.frames = int(seconds * 50)
        self.delay = delay
        self.pts = 0

    async def recv(self) -> av.AudioFrame:
        if self.frames == 0:
            raise MediaStreamError
        self.frames -= 1
        await asyncio.sleep(self.delay)
        t = (np.arange(960) + self.pts) / 48_000
        pcm = (np.sin(2 * np.pi * 200 * t) * 9000).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 48_000, self.pts, fractions.Fraction(1, 48_000)
        self.pts += 960
        return frame


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        return wav.getnframes() / wav.getframerate()


async def test_records_until_the_source_ends_with_live_levels(tmp_path: Path) -> None:
    levels: list[float] = []
    recorder = VoiceRecorder(Voice(2.0), tmp_path / "voice.wav", on_level=lambda level, _s: levels.append(level))
    path = await recorder.record()
    assert wav_seconds(path) == pytest.approx(2.0, abs=0.05)
    assert len(levels) == 100 and min(levels) > 0.3


async def test_stop_ends_the_recording_early(tmp_path: Path) -> None:
    recorder = VoiceRecorder(Voice(30.0, delay=0.01), tmp_path / "voice.wav")
    task = asyncio.ensure_future(recorder.record())
    while recorder.seconds < 1.0:
        await asyncio.sleep(0.01)
    recorder.stop()
    path = await asyncio.wait_for(task, 5)
    assert 1.0 <= wav_seconds(path) < 2.0


async def test_too_short_is_refused_with_advice(tmp_path: Path) -> None:
    with pytest.raises(AppError, match="too short"):
        await VoiceRecorder(Voice(0.2), tmp_path / "voice.wav").record()
