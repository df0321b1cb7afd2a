"""basic-voice: a voiced buzz shaped like syllables, with phoneme timings; not words.

Each syllable is a harmonic tone (falling pitch) under a rounded envelope, words and sentences
are separated by pauses, so loudness rises and falls the way speech does and the animator and
the call pipeline have something realistic to work with. Pitch follows `learned["f0"]` when a
voice profile has one.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from plugins.basic.faults import FaultConfig, Faults, variant_without_faults
from server.backends import BackendInfo, BackendKind, VoiceBackend, VoiceProfile
from server.media import AudioChunk, PhonemeTiming

SAMPLE_RATE = 22050
SYLLABLE_S = 0.17
SYLLABLE_GAP_S = 0.03
WORD_GAP_S = 0.07
SENTENCE_GAP_S = 0.25
CHUNK_S = 0.1


class BasicVoiceConfig(FaultConfig, frozen=True):
    """`[config.basic-voice]`."""

    sample_rate: int = SAMPLE_RATE
    f0: float = 120.0  # pitch in Hz, unless the voice profile has a learned one


class BasicVoice(VoiceBackend):
    info = BackendInfo(
        name="basic-voice",
        kind=BackendKind.VOICE,
        description="Syllable-shaped harmonic tones with phoneme timings; not intelligible (tests, demos).",
        config=BasicVoiceConfig,
        docs="plugins/basic/README.md",
    )
    options: BasicVoiceConfig

    def __init__(
        self, config: Mapping[str, Any] | BasicVoiceConfig | None = None, *, weights_dir: Path | None = None
    ) -> None:
        super().__init__(config, weights_dir=weights_dir)
        self.faults = Faults(self.options, self.info.name)
        self.sample_rate = self.options.sample_rate
        self.f0 = self.options.f0
        self.spoken: list[str] = []  # every text asked for, in order (tests count the work done)

    def render_variant(self) -> str:
        return variant_without_faults(self.config)

    async def synthesize(self, text: str, *, voice: VoiceProfile) -> AsyncIterator[AudioChunk]:
        self.spoken.append(text)
        f0 = float(voice.learned.get("f0", self.f0))
        step = int(self.sample_rate * CHUNK_S)
        pending: list[np.ndarray] = []
        pending_phonemes: list[PhonemeTiming] = []
        held = 0
        emitted = 0
        index = 0
        for samples, phonemes in _syllables(text, self.sample_rate, f0):
            pending.append(samples)
            pending_phonemes.extend(phonemes)
            held += len(samples)
            if held < step:
                continue
            await self.faults.before_item(index)
            yield _chunk(pending, pending_phonemes, self.sample_rate, emitted)
            index += 1
            emitted += held
            pending, pending_phonemes, held = [], [], 0
        if held:
            await self.faults.before_item(index)
            yield _chunk(pending, pending_phonemes, self.sample_rate, emitted)

    async def learn(self, samples: tuple[Path, ...]) -> Mapping[str, Any]:
        return {"f0": self.f0}


def _chunk(parts: list[np.ndarray], phonemes: list[PhonemeTiming], rate: int, pts: int) -> AudioChunk:
    audio = np.concatenate(parts)
    chunk = AudioChunk.from_float(audio, rate, pts=pts)
    return AudioChunk(samples=chunk.samples, sample_rate=rate, pts=pts, phonemes=tuple(phonemes))


def _syllables(text: str, rate: int, f0: float) -> Iterator[tuple[np.ndarray, list[PhonemeTiming]]]:
    """Audio pieces in order (syllables and pauses) with phoneme timings in utterance seconds."""
    at = 0
    for token in re.findall(r"[A-Za-z']+|[.!?]+|[,;:]", text):
        if not token[0].isalpha():
            pause = np.zeros(int(rate * (SENTENCE_GAP_S if token[0] in ".!?" else WORD_GAP_S * 2)), np.float32)
            at += len(pause)
            yield pause, []
            continue
        for syllable in _split_syllables(token.lower()):
            tone = _tone(int(rate * SYLLABLE_S), rate, f0)
            yield tone, _timings(syllable, at / rate, SYLLABLE_S)
            gap = np.zeros(int(rate * SYLLABLE_GAP_S), np.float32)
            at += len(tone) + len(gap)
            yield gap, []
        gap = np.zeros(int(rate * WORD_GAP_S), np.float32)
        at += len(gap)
        yield gap, []


def _split_syllables(word: str) -> list[str]:
    parts = re.findall(r"[^aeiouy]*[aeiouy]+(?:[^aeiouy]+$)?", word)
    return parts or [word]


def _tone(n: int, rate: int, f0: float) -> np.ndarray:
    t = np.arange(n, dtype=np.float32) / rate
    pitch = f0 * (1.1 - 0.2 * t / max(t[-1], 1e-6))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    wave = sum(np.sin(k * phase) / k for k in range(1, 9))
    envelope = np.sin(np.pi * np.arange(n) / n) ** 1.5
    return (0.25 * wave * envelope).astype(np.float32)


def _timings(syllable: str, start: float, length: float) -> list[PhonemeTiming]:
    """Spread the syllable's letters over its length: consonants short, the vowel long."""
    letters = [c for c in syllable if c.isalpha()]
    weights = [1.0 if c not in "aeiouy" else 3.0 for c in letters]
    total = sum(weights) or 1.0
    out, at = [], start
    for letter, weight in zip(letters, weights, strict=True):
        end = at + length * weight / total
        out.append(PhonemeTiming(phoneme=letter, start=round(at, 4), end=round(end, 4)))
        at = end
    return out
