"""The streaming logic with a scripted engine (fast) and the real VAD on real synthetic speech."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

from plugins.whisper.streaming import StreamOptions, transcribe_stream
from server.media import AudioChunk, Transcript
from server.speech.testing import ScriptedEngine, silence
from server.speech.vad import VadEndpointer

pytest.importorskip("faster_whisper")  # ships the Silero VAD model


async def _chunks(audio: np.ndarray, rate: int, *, chunk_ms: int = 20, pace: float = 0.0) -> AsyncIterator[AudioChunk]:
    step = rate * chunk_ms // 1000
    for i in range(0, len(audio), step):
        yield AudioChunk.from_float(audio[i : i + step], rate, pts=i)
        await asyncio.sleep(pace)


# The tests play audio ~10x faster than real time; this counts that as live.
FAST_LIVE = 50.0


async def _collect(engine: ScriptedEngine, audio: np.ndarray, rate: int, **kw: float) -> list[Transcript]:
    pace = float(kw.pop("pace", 0.0))
    options = StreamOptions(**{"live_ratio": FAST_LIVE, **kw})
    return [
        t
        async for t in transcribe_stream(
            engine, _chunks(audio, rate, pace=pace), language="en", vad_factory=VadEndpointer, options=options
        )
    ]


async def test_exactly_one_final_and_it_comes_last(fox: tuple[np.ndarray, int]) -> None:
    speech, rate = fox
    audio = np.concatenate([silence(0.3, rate), speech, speech, silence(0.6, rate)])
    out = await _collect(ScriptedEngine(delay=0.01), audio, rate, partial_interval_ms=500, pace=0.002)
    assert [t.final for t in out].count(True) == 1
    assert out[-1].final and out[-1].text
    assert any(not t.final for t in out), "no partial transcript while the user was speaking"


async def test_final_reuses_the_decode_started_in_the_quiet_tail(fox: tuple[np.ndarray, int]) -> None:
    speech, rate = fox
    engine = ScriptedEngine(delay=0.02)
    audio = np.concatenate([speech, silence(0.6, rate)])
    out = await _collect(engine, audio, rate, partial_interval_ms=100000, tail_silence_ms=200, pace=0.004)
    # One decode, started in the silence after the speech, covering all of the speech; none after the end.
    assert len(engine.calls) == 1
    assert engine.calls[0] >= len(speech) * 16000 / rate
    assert out[-1].final and out[-1].text.endswith(" 1")


async def test_speech_after_a_pause_forces_a_fresh_final(fox: tuple[np.ndarray, int]) -> None:
    speech, rate = fox
    engine = ScriptedEngine(delay=0.0)
    audio = np.concatenate([speech, silence(0.5, rate), speech[: rate // 2]])  # talks again, stream ends mid-speech
    out = await _collect(engine, audio, rate, partial_interval_ms=100000, tail_silence_ms=200, pace=0.002)
    assert engine.calls[-1] == pytest.approx(len(audio) * 16000 / rate, abs=400)  # the final saw everything
    assert out[-1].final


async def test_a_whole_utterance_handed_over_at_once_is_decoded_once(fox: tuple[np.ndarray, int]) -> None:
    # A turn's recorded utterance arrives all at once: an early decode of its first part would only
    # hold up the final one (one decode runs at a time).
    speech, rate = fox
    engine = ScriptedEngine(delay=0.05)
    audio = np.concatenate([speech, silence(0.3, rate), speech, silence(0.3, rate)])
    out = await _collect(engine, audio, rate, partial_interval_ms=300, tail_silence_ms=150, live_ratio=2.0)
    assert len(engine.calls) == 1
    assert engine.calls[0] == pytest.approx(len(audio) * 16000 / rate, abs=400)
    assert [t.final for t in out] == [True]


async def test_real_time_audio_gets_partials_with_the_default_options(fox: tuple[np.ndarray, int]) -> None:
    speech, rate = fox
    engine = ScriptedEngine(delay=0.01)
    audio = np.concatenate([speech[: int(1.6 * rate)], silence(0.4, rate)])
    out = [
        t
        async for t in transcribe_stream(
            engine,
            _chunks(audio, rate, pace=0.02),
            language="en",
            vad_factory=VadEndpointer,
            options=StreamOptions(partial_interval_ms=500),
        )
    ]
    assert len(engine.calls) >= 2, "no early decode while the audio came in real time"
    assert out[-1].final


async def test_no_speech_means_empty_final_without_decoding() -> None:
    engine = ScriptedEngine()
    out = await _collect(engine, silence(1.5, 16000), 16000)
    assert [(t.text, t.final) for t in out] == [("", True)]
    assert engine.calls == []


async def test_engine_failure_reaches_the_caller(fox: tuple[np.ndarray, int]) -> None:
    speech, rate = fox
    engine = ScriptedEngine(fail=RuntimeError("decoder exploded"))
    with pytest.raises(RuntimeError, match="decoder exploded"):
        await _collect(engine, np.concatenate([speech, silence(0.5, rate)]), rate)


async def test_cancelling_mid_stream_is_clean(fox: tuple[np.ndarray, int]) -> None:
    speech, rate = fox
    engine = ScriptedEngine(delay=0.2)

    async def consume() -> None:
        async for _ in transcribe_stream(
            engine,
            _chunks(np.concatenate([speech] * 3), rate, pace=0.01),
            language="en",
            vad_factory=VadEndpointer,
            options=StreamOptions(partial_interval_ms=300, live_ratio=FAST_LIVE),
        ):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.8)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.3)  # the decode thread finishes on its own; nothing is left pending or raised


async def test_every_decode_is_primed_with_the_hint(fox: tuple[np.ndarray, int]) -> None:
    speech, rate = fox
    engine = ScriptedEngine(delay=0.01)
    audio = np.concatenate([speech, silence(0.6, rate)])
    stream = transcribe_stream(
        engine,
        _chunks(audio, rate, pace=0.002),
        language="en",
        vad_factory=VadEndpointer,
        options=StreamOptions(partial_interval_ms=300, live_ratio=FAST_LIVE),
        hint="We talk about Ann.",
    )
    assert [t async for t in stream][-1].final
    assert len(engine.prompts) >= 2 and set(engine.prompts) == {"We talk about Ann."}
