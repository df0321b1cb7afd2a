"""basic-asr: measures how long the user spoke, or reads transcripts from a script.

It does not recognise words. With `script = ["...", ...]` in its config it returns those lines
in order, one per utterance (how `memoria call` and the tests give it sidecar transcripts);
otherwise it says "[speech N.N s]" with the voiced duration it measured.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from plugins.basic.faults import FaultConfig, Faults
from server.backends import ASRBackend, BackendInfo, BackendKind
from server.media import AudioChunk, Transcript

FRAME_S = 0.02
VOICED_RMS = 0.01  # float RMS above which a 20 ms frame counts as speech


class BasicASRConfig(FaultConfig, frozen=True):
    """`[config.basic-asr]`."""

    script: list[str] = msgspec.field(default_factory=list)  # transcripts to return, one per utterance
    partial_every_s: float = 1.0


class BasicASR(ASRBackend):
    info = BackendInfo(
        name="basic-asr",
        kind=BackendKind.ASR,
        description="Energy-based utterance length or scripted transcripts; no recognition (tests, demos).",
        streaming=True,
        config=BasicASRConfig,
        docs="plugins/basic/README.md",
    )
    options: BasicASRConfig

    def __init__(
        self, config: Mapping[str, Any] | BasicASRConfig | None = None, *, weights_dir: Path | None = None
    ) -> None:
        super().__init__(config, weights_dir=weights_dir)
        self.script: list[str] = list(self.options.script)
        self.faults = Faults(self.options, self.info.name)
        self.partial_every_s = self.options.partial_every_s
        self.utterances = 0
        self.hints: list[str] = []  # the hint of every transcribe call, for tests

    async def transcribe(
        self, audio: AsyncIterable[AudioChunk], *, language: str | None = None, hint: str = ""
    ) -> AsyncIterator[Transcript]:
        self.hints.append(hint)
        voiced = 0.0
        total = 0.0
        next_partial = self.partial_every_s
        count = 0
        async for chunk in audio:
            if self.faults.exception_after is not None and count >= self.faults.exception_after:
                await self.faults.before_item(count)  # raises
            count += 1
            voiced += _voiced_seconds(chunk)
            total += chunk.duration
            if total >= next_partial:
                next_partial += self.partial_every_s
                yield Transcript(text=f"[speech {voiced:.1f} s]", final=False, end=total, language=language)
        if self.faults.delay_s > 0:  # stands in for the model's time after the end of speech
            await asyncio.sleep(self.faults.delay_s)
        text = self._next_line() or f"[speech {voiced:.1f} s]"
        self.utterances += 1
        yield Transcript(text=text, final=True, start=0.0, end=total, language=language or "en")

    def _next_line(self) -> str | None:
        if not self.script:
            return None
        return self.script[self.utterances % len(self.script)]


def _voiced_seconds(chunk: AudioChunk) -> float:
    """Seconds of `chunk` whose 20 ms frames are louder than VOICED_RMS."""
    audio = chunk.as_float()
    step = max(1, int(chunk.sample_rate * FRAME_S))
    usable = len(audio) - len(audio) % step
    if usable <= 0:
        return 0.0
    frames = audio[:usable].reshape(-1, step)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    return float(np.count_nonzero(rms > VOICED_RMS)) * step / chunk.sample_rate
