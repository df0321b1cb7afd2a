"""A real photo (skimage's astronaut, cropped to the head), its landmarks, and synthetic speech."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pytest

from server.backends import AvatarFace
from server.media import AudioChunk, PhonemeTiming


@pytest.fixture(scope="session")
def head() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[0:360, 76:436])


@pytest.fixture(scope="session")
def head_landmarks(head: np.ndarray) -> tuple[tuple[float, float], ...]:
    from server.face.analysis import analyze_photo

    return tuple((float(x), float(y)) for x, y in analyze_photo(head).landmarks)


@pytest.fixture
def make_avatar(
    tmp_path: Path, head: np.ndarray, head_landmarks: tuple[tuple[float, float], ...]
) -> Callable[..., AvatarFace]:
    from PIL import Image

    photo = tmp_path / "face.png"
    Image.fromarray(head).save(photo)

    def make(size: tuple[int, int] = (512, 512), landmarks: bool = True, cache: bool = True) -> AvatarFace:
        cache_dir = tmp_path / "cache" if cache else None
        return AvatarFace(photo=photo, landmarks=head_landmarks if landmarks else (), cache_dir=cache_dir, size=size)

    return make


def speech_like(seconds: float, rate: int = 16000, seed: int = 0) -> np.ndarray:
    """Voiced bursts at a syllable rate with random pauses: loudness moves like speech."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    f0 = 120 + 15 * np.sin(2 * np.pi * 0.5 * t)
    voiced = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / rate) / k for k in range(1, 10))
    syllables = np.repeat(rng.random(int(seconds * 5) + 1) < 0.7, rate // 5)[:n]
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 0.7 * syllables
    return (0.25 * voiced * envelope).astype(np.float32)


async def chunks(
    audio: np.ndarray, rate: int, *, step: int = 320, pts: int = 0, phonemes: tuple[PhonemeTiming, ...] = ()
) -> AsyncIterator[AudioChunk]:
    """The audio in `step`-sample chunks from stream sample `pts`; phonemes ride on the first chunk."""
    for i, at in enumerate(range(0, len(audio), step)):
        chunk = AudioChunk.from_float(audio[at : at + step], rate, pts=pts + at)
        if i == 0 and phonemes:
            chunk = AudioChunk(samples=chunk.samples, sample_rate=rate, pts=chunk.pts, phonemes=phonemes)
        yield chunk
        await asyncio.sleep(0)
