"""What the contract feeds a backend: speech-like audio, a persona sheet, a photo with a face."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from server.backends import AvatarFace, PersonaSheet
from server.media import AudioChunk

PERSONA_SHEET = PersonaSheet(
    name="Rosa",
    relationship="grandmother",
    user_name="Sam",
    personality="gentle, funny, a retired baker from Porto",
    speaking_style="warm, calls Sam 'querido'",
    memories=("She baked custard tarts with Sam every Christmas Eve.", "She kept bees behind the house."),
)


def speech_like(seconds: float, rate: int = 16000) -> np.ndarray:
    """A voiced, syllable-paced signal: enough for energy-based and neural front ends alike."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 120 + 20 * np.sin(2 * np.pi * 0.7 * t)
    voiced = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / rate) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 3.5 * t), 0, None) ** 0.5
    return np.asarray(0.2 * voiced * envelope, dtype=np.float32)


async def chunks(audio: np.ndarray, rate: int, ms: int = 20) -> AsyncIterator[AudioChunk]:
    """`audio` as the call delivers it: 20 ms chunks with sample-count timestamps."""
    step = rate * ms // 1000
    for start in range(0, len(audio), step):
        yield AudioChunk.from_float(audio[start : start + step], rate, pts=start)
        await asyncio.sleep(0)


def sample_face(folder: Path) -> AvatarFace:
    """A portrait (scikit-image's astronaut) analysed as an upload would be, with a cache folder."""
    from PIL import Image
    from skimage import data

    from server.face.analysis import analyze_photo

    rgb = data.astronaut()[0:360, 76:436]
    folder.mkdir(parents=True, exist_ok=True)
    photo = folder / "face.png"
    Image.fromarray(rgb).save(photo)
    analysis = analyze_photo(rgb)
    cache = folder / "cache"
    cache.mkdir(exist_ok=True)
    landmarks = tuple((float(p[0]), float(p[1])) for p in analysis.landmarks)
    return AvatarFace(photo=photo, landmarks=landmarks, cache_dir=cache)
