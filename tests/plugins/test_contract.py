"""Every backend the project registers keeps the streaming contract.

Parametrised over the real registry (plugin_registry.toml + entry points), so a new plugin is
tested as soon as it is listed. A backend that is not ready here must say what fixes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from server.backends import (
    AnimatorBackend,
    ASRBackend,
    AvatarFace,
    Backend,
    BackendKind,
    PersonaBackend,
    PersonaSheet,
    Readiness,
    Role,
    Turn,
    VoiceBackend,
    VoiceProfile,
)
from server.media import AudioChunk, TextDelta, Transcript, VideoFrame
from server.registry import Registry

ROOT = Path(__file__).parents[2]
REGISTRY = Registry.from_file(ROOT / "plugin_registry.toml", weights_dir=ROOT / "weights")
ALL = [(kind, name) for kind in BackendKind for name in REGISTRY.names(kind)]
SHEET = PersonaSheet(
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
    return (0.2 * voiced * envelope).astype(np.float32)


async def chunks(audio: np.ndarray, rate: int, ms: int = 20) -> AsyncIterator[AudioChunk]:
    step = rate * ms // 1000
    for start in range(0, len(audio), step):
        yield AudioChunk.from_float(audio[start : start + step], rate, pts=start)
        await asyncio.sleep(0)


def avatar_face(tmp_path: Path) -> AvatarFace:
    from PIL import Image
    from skimage import data

    from server.face.analysis import analyze_photo

    rgb = data.astronaut()[0:360, 76:436]
    photo = tmp_path / "face.png"
    Image.fromarray(rgb).save(photo)
    analysis = analyze_photo(rgb)
    cache = tmp_path / "cache"
    cache.mkdir(exist_ok=True)
    return AvatarFace(photo=photo, landmarks=tuple(tuple(p[:2]) for p in analysis.landmarks), cache_dir=cache)


def stream_for(backend: Backend, tmp_path: Path) -> AsyncIterator[object]:
    if isinstance(backend, ASRBackend):
        return backend.transcribe(chunks(speech_like(1.5), 16000), language="en")
    if isinstance(backend, PersonaBackend):
        return backend.respond([Turn(Role.USER, "Hello Grandma, do you remember the bees?")], persona=SHEET)
    if isinstance(backend, VoiceBackend):
        return backend.synthesize("Hello querido. It is so good to see you.", voice=VoiceProfile())
    assert isinstance(backend, AnimatorBackend)
    return backend.animate(chunks(speech_like(1.0, 22050), 22050), avatar=avatar_face(tmp_path))


def check_items(kind: BackendKind, items: list[object]) -> None:
    assert items, f"{kind} backend produced nothing"
    if kind is BackendKind.ASR:
        assert all(isinstance(i, Transcript) for i in items)
        assert items[-1].final and not any(i.final for i in items[:-1])  # type: ignore[attr-defined]
    elif kind is BackendKind.PERSONA:
        assert all(isinstance(i, TextDelta) for i in items)
        assert "".join(i.text for i in items).strip()  # type: ignore[attr-defined]
    elif kind is BackendKind.VOICE:
        assert all(isinstance(i, AudioChunk) and i.samples.dtype == np.int16 for i in items)
        pts = [i.pts for i in items]  # type: ignore[attr-defined]
        ends = [i.pts + len(i.samples) for i in items]  # type: ignore[attr-defined]
        assert pts[0] == 0 and pts[1:] == ends[:-1], "voice chunks must be contiguous in sample time"
        assert sum(len(i.samples) for i in items) / items[0].sample_rate > 0.5  # type: ignore[attr-defined]
    else:
        assert all(isinstance(i, VideoFrame) and i.image.dtype == np.uint8 and i.image.ndim == 3 for i in items)
        indices = [i.index for i in items]  # type: ignore[attr-defined]
        assert indices == list(range(indices[0], indices[0] + len(indices))), "frame indices must be contiguous"
        assert abs(len(items) - 25) <= 1, "one second of audio must give 25 frames"


@pytest.mark.parametrize(("kind", "name"), ALL, ids=[f"{k.value}:{n}" for k, n in ALL])
async def test_backend_keeps_the_contract(kind: BackendKind, name: str, tmp_path: Path) -> None:
    status = REGISTRY.status(kind, name)
    if not status.ready:
        # Not runnable on this machine: it must at least say exactly what would fix it.
        assert status.state in (Readiness.MISSING_WEIGHTS, Readiness.MISSING_DEPENDENCY, Readiness.NEEDS_CONFIG)
        assert status.fix and status.detail
        return
    backend = REGISTRY.create(kind, name)
    assert backend.info.kind is kind
    await backend.load()
    try:
        items = [item async for item in stream_for(backend, tmp_path)]
        check_items(kind, items)
        await cancels_cleanly(backend, tmp_path)
    finally:
        await backend.aclose()
    await backend.aclose()  # idempotent


async def cancels_cleanly(backend: Backend, tmp_path: Path) -> None:
    """Cancelling a consumer mid-stream raises CancelledError in it and leaves the backend usable."""
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in stream_for(backend, tmp_path):
            first.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), timeout=60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # still usable afterwards
    again = [item async for item in stream_for(backend, tmp_path)]
    assert again


def test_registry_has_a_default_of_every_kind() -> None:
    for kind in BackendKind:
        assert REGISTRY.default_name(kind) in REGISTRY.names(kind)
