"""Transcribe while the user speaks, so the final text is ready soon after they stop.

One decode runs at a time in a worker thread. While speech goes on, the whole utterance so far
is decoded every `partial_interval` for partial transcripts. As soon as the tail has been quiet
for `tail_silence_ms` (well before the caller's endpoint fires), a decode of everything so far
starts; when the stream then ends with no speech after it, that result is the final one and no
decoding is left to do.

Early decodes only pay off when audio arrives as it is spoken. An utterance handed over whole
(much faster than real time) is decoded once, at its end: a partial decode would only hold the
final one up, as one decode runs at a time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from typing import Any

import msgspec
import numpy as np

from plugins.whisper.engines import SAMPLE_RATE, Engine
from server.media import AudioChunk, Transcript
from server.speech.resample import StreamResampler
from server.speech.vad import VadEndpointer, VadEventKind


class StreamOptions(msgspec.Struct, frozen=True):
    partial_interval_ms: float = 1000.0  # audio between partial decodes while speech goes on
    tail_silence_ms: float = 150.0  # quiet tail that starts the decode expected to be final
    min_speech_ms: float = 64.0
    live_ratio: float = 2.0  # audio arriving faster than this many times real time is not live


class _Decode(msgspec.Struct):
    task: asyncio.Task[tuple[str, str | None]]
    covered: int  # samples of the buffer it decodes


async def transcribe_stream(
    engine: Engine,
    audio: AsyncIterable[AudioChunk],
    *,
    language: str | None,
    vad_factory: Callable[..., Any],
    options: StreamOptions | None = None,
    hint: str = "",
) -> AsyncGenerator[Transcript, None]:
    """Partials while audio arrives, then exactly one final transcript; every decode is primed with `hint`."""
    options = options or StreamOptions()
    vad: VadEndpointer = vad_factory(silence_ms=options.tail_silence_ms, min_speech_ms=options.min_speech_ms)
    resampler: StreamResampler | None = None
    parts: list[np.ndarray] = []
    n = 0  # samples buffered at 16 kHz
    heard_speech = False
    last_voiced = 0  # buffer sample where the last speech window ended
    last_launch = 0
    inflight: _Decode | None = None
    best: tuple[str, str | None, int] | None = None  # (text, language, covered) of the newest finished decode
    last_partial = ""
    started: float | None = None  # monotonic time of the first chunk

    def live() -> bool:
        """Whether the audio so far came in about as fast as it was spoken."""
        elapsed = time.monotonic() - (started or 0.0)
        return elapsed * options.live_ratio >= n / SAMPLE_RATE

    def launch() -> _Decode:
        snapshot = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        return _Decode(asyncio.create_task(asyncio.to_thread(engine.decode, snapshot, language, hint)), len(snapshot))

    try:
        async for chunk in audio:
            if resampler is None:
                resampler = StreamResampler(chunk.sample_rate, SAMPLE_RATE)
                started = time.monotonic()
            x = resampler.process(chunk.as_float())
            parts.append(x)
            n += len(x)
            for event in vad.feed(AudioChunk.from_float(x, SAMPLE_RATE)):
                if event.kind is VadEventKind.SPEECH_START:
                    heard_speech = True
            if vad.in_speech:
                last_voiced = n
            if inflight is not None and inflight.task.done():
                text, lang = inflight.task.result()
                best = (text, lang, inflight.covered)
                inflight = None
                if text and text != last_partial:
                    last_partial = text
                    yield Transcript(text=text, final=False, end=best[2] / SAMPLE_RATE, language=lang)
            if inflight is None and heard_speech and live():
                quiet = not vad.in_speech
                stale = best is None or best[2] < last_voiced
                if quiet and stale:
                    inflight = launch()  # the decode we expect to be final
                    last_launch = n
                elif not quiet and n - last_launch >= options.partial_interval_ms * SAMPLE_RATE / 1000:
                    inflight = launch()
                    last_launch = n
        if resampler is not None:
            tail = resampler.process(np.zeros(0, dtype=np.float32), last=True)
            parts.append(tail)
            n += len(tail)
        if not heard_speech:
            yield Transcript(text="", final=True, end=n / SAMPLE_RATE, language=language)
            return
        if inflight is not None:
            text, lang = await inflight.task
            best = (text, lang, inflight.covered)
            inflight = None
        if best is None or best[2] < last_voiced:
            inflight = launch()
            text, lang = await inflight.task
            best = (text, lang, inflight.covered)
            inflight = None
        yield Transcript(text=best[0], final=True, end=n / SAMPLE_RATE, language=best[1])
    finally:
        if inflight is not None:
            # A decode thread cannot be interrupted: let it finish and drop its result.
            inflight.task.add_done_callback(_discard)


def _discard(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
