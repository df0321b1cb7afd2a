"""The contract every backend keeps, as one call a plugin's own tests can make:

    report = await check_backend(MyAnimator, config={"quality": "fast"}, weights_dir=Path("weights"))

It checks the class declares its kind and settings as data, that a backend which is not ready says
what fixes it, and, when it is ready: `load()`, one stream of the kind's items (contiguous sample
time, 25 frames per second of audio, a final transcript last, ...), cancelling a consumer mid-stream
(CancelledError reaches it, the backend stays usable) and an `aclose()` that can be called twice.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from server.backends import (
    BASE_CLASS,
    AnimatorBackend,
    ASRBackend,
    Backend,
    BackendInfo,
    BackendKind,
    BackendStatus,
    PersonaBackend,
    Role,
    Turn,
    VoiceBackend,
    VoiceProfile,
)
from server.backends.config import options_for
from server.errors import ConfigError
from server.media import AudioChunk, TextDelta, Transcript, VideoFrame
from server.testing.samples import PERSONA_SHEET, chunks, sample_face, speech_like


class ContractViolation(AssertionError):
    """A backend broke a rule of the contract; the message names the backend and the rule."""


@dataclass(frozen=True)
class ContractReport:
    name: str
    kind: BackendKind
    status: BackendStatus
    items: int = 0  # what one stream produced; 0 when the backend was not ready to run

    @property
    def ran(self) -> bool:
        return self.status.ready


def rule(holds: object, backend: str, message: str) -> None:
    if not holds:
        raise ContractViolation(f"{backend}: {message}")


async def check_backend(
    cls: type[Backend],
    *,
    config: Any = None,
    weights_dir: Path = Path("weights"),
    require_ready: bool = False,
    timeout_s: float = 300.0,
) -> ContractReport:
    """Run `cls` through the contract; raises ContractViolation on the first broken rule.

    A backend that is not ready here (weights, a dependency or settings missing) passes if its
    status says what fixes it, unless `require_ready`."""
    info = getattr(cls, "info", None)
    rule(isinstance(info, BackendInfo), cls.__name__, "`info` must be a BackendInfo")
    assert isinstance(info, BackendInfo)
    name = info.name
    rule(
        issubclass(cls, BASE_CLASS[info.kind]),
        name,
        f"a {info.kind} backend must subclass {BASE_CLASS[info.kind].__name__}",
    )
    status = cls.status(weights_dir, config)
    if not status.ready:
        rule(status.detail and status.fix, name, f"{status.state} but its status does not say what fixes it")
        rule(not require_ready, name, f"not ready: {status.detail} (fix: {status.fix})")
        return ContractReport(name, info.kind, status)
    try:
        options = options_for(info, config)
    except ConfigError as exc:  # status() said ready, so the settings must validate
        raise ContractViolation(f"{name}: ready, yet its settings do not validate: {exc.message}") from exc
    with tempfile.TemporaryDirectory(prefix="memoria-contract-") as folder:
        backend = cls(options, weights_dir=weights_dir)
        await backend.load()
        try:
            items = await asyncio.wait_for(collect(stream_for(backend, Path(folder))), timeout_s)
            check_items(name, info.kind, items)
            await cancels_cleanly(backend, Path(folder), timeout_s)
        finally:
            await backend.aclose()
        await backend.aclose()  # must be idempotent
    return ContractReport(name, info.kind, status, items=len(items))


async def collect(stream: AsyncIterator[object]) -> list[object]:
    return [item async for item in stream]


def stream_for(backend: Backend, folder: Path) -> AsyncIterator[object]:
    """The stream the call would open on a backend of this kind, on the sample inputs."""
    if isinstance(backend, ASRBackend):
        return backend.transcribe(chunks(speech_like(1.5), 16000), language="en")
    if isinstance(backend, PersonaBackend):
        return backend.respond([Turn(Role.USER, "Hello Grandma, do you remember the bees?")], persona=PERSONA_SHEET)
    if isinstance(backend, VoiceBackend):
        return backend.synthesize("Hello querido. It is so good to see you.", voice=VoiceProfile())
    assert isinstance(backend, AnimatorBackend)
    return backend.animate(chunks(speech_like(1.0, 22050), 22050), avatar=sample_face(folder))


def check_items(name: str, kind: BackendKind, items: list[Any]) -> None:
    rule(items, name, "the stream produced nothing")
    if kind is BackendKind.ASR:
        rule(all(isinstance(i, Transcript) for i in items), name, "an ASR stream yields Transcript items")
        rule(items[-1].final and not any(i.final for i in items[:-1]), name, "exactly the last transcript is final")
    elif kind is BackendKind.PERSONA:
        rule(all(isinstance(i, TextDelta) for i in items), name, "a persona stream yields TextDelta items")
        rule("".join(i.text for i in items).strip(), name, "the reply is empty")
    elif kind is BackendKind.VOICE:
        rule(
            all(isinstance(i, AudioChunk) and i.samples.dtype == np.int16 for i in items),
            name,
            "a voice stream yields int16 AudioChunk items",
        )
        ends = [i.pts + len(i.samples) for i in items]
        rule(items[0].pts == 0 and [i.pts for i in items[1:]] == ends[:-1], name, "chunks are contiguous in samples")
        rule(sum(len(i.samples) for i in items) / items[0].sample_rate > 0.5, name, "a sentence lasts over 0.5 s")
    else:
        rule(
            all(isinstance(i, VideoFrame) and i.image.dtype == np.uint8 and i.image.ndim == 3 for i in items),
            name,
            "an animator stream yields VideoFrame items of uint8 HxWx3 images",
        )
        indices = [i.index for i in items]
        rule(indices == list(range(indices[0], indices[0] + len(indices))), name, "frame indices are contiguous")
        rule(abs(len(items) - 25) <= 1, name, f"one second of audio gives 25 frames, not {len(items)}")


async def cancels_cleanly(backend: Backend, folder: Path, timeout_s: float) -> None:
    """Cancelling a consumer mid-stream raises CancelledError in it and leaves the backend usable."""
    name = backend.info.name
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in stream_for(backend, folder):
            first.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), timeout=timeout_s)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    else:
        raise ContractViolation(f"{name}: a cancelled stream must raise CancelledError, not end quietly")
    rule(await collect(stream_for(backend, folder)), name, "after a cancelled stream, the next one yields nothing")
