"""Frozen values passed between backends during a call.

Media time is always a sample count (`pts`) at the chunk's own rate, never wall-clock time:
that is what keeps the avatar's lips locked to its voice.
"""

from __future__ import annotations

import enum

import msgspec
import numpy as np

VIDEO_FPS = 25


class Emotion(enum.StrEnum):
    """The feelings the animator can show and the persona can label a sentence with."""

    NEUTRAL = "neutral"
    HAPPY = "happy"
    SAD = "sad"
    SURPRISED = "surprised"
    THOUGHTFUL = "thoughtful"


class AvatarState(enum.StrEnum):
    """What the avatar is doing, shown on its face and sent to the client."""

    IDLE = "idle"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"


class PhonemeTiming(msgspec.Struct, frozen=True):
    """One phoneme (IPA) the voice is saying, in seconds from the start of its utterance."""

    phoneme: str
    start: float
    end: float


class AudioChunk(msgspec.Struct, frozen=True):
    """Mono 16-bit PCM; `pts` is the index of the first sample since the stream began."""

    samples: np.ndarray  # int16, shape (n,)
    sample_rate: int
    pts: int = 0
    phonemes: tuple[PhonemeTiming, ...] = ()

    @classmethod
    def from_float(cls, audio: np.ndarray, sample_rate: int, pts: int = 0) -> AudioChunk:
        """Build a chunk from float samples in [-1, 1] (clipped)."""
        pcm = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0) * 32767.0
        return cls(samples=pcm.astype(np.int16), sample_rate=sample_rate, pts=pts)

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate

    @property
    def start(self) -> float:
        """Stream time of the first sample, in seconds."""
        return self.pts / self.sample_rate

    def as_float(self) -> np.ndarray:
        """Samples as float32 in [-1, 1]."""
        return self.samples.astype(np.float32) / 32768.0


class VideoFrame(msgspec.Struct, frozen=True):
    """One RGB frame; `index` counts frames at `fps` since the stream began."""

    image: np.ndarray  # uint8, shape (h, w, 3), RGB
    index: int
    fps: int = VIDEO_FPS

    @property
    def time(self) -> float:
        """Stream time of this frame, in seconds."""
        return self.index / self.fps


class Transcript(msgspec.Struct, frozen=True):
    """What the user said; partials may change, a final one is settled."""

    text: str
    final: bool
    start: float = 0.0
    end: float = 0.0
    language: str | None = None


class TextDelta(msgspec.Struct, frozen=True):
    """A piece of the avatar's reply as the persona writes it, with its feeling if known."""

    text: str
    emotion: Emotion | None = None
