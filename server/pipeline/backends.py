"""The four backends one call uses, picked from the registry with the avatar's overrides."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any, cast

import msgspec

from server.backends import (
    AnimatorBackend,
    ASRBackend,
    AvatarFace,
    Backend,
    BackendKind,
    PersonaBackend,
    PersonaSheet,
    VoiceBackend,
    VoiceProfile,
)
from server.media import AudioChunk, Transcript
from server.registry import Registry


class CallAvatar(msgspec.Struct, frozen=True):
    """Everything a call needs to know about the person on the other side."""

    face: AvatarFace
    sheet: PersonaSheet
    voice: VoiceProfile = VoiceProfile()
    backends: dict[str, str] = msgspec.field(default_factory=dict)  # kind -> backend name
    avatar_id: int | None = None
    photo_id: int | None = None  # the avatar_images row shown (keys the render cache)


class CallBackends:
    """ASR, persona, voice and animator for one call; `aclose()` releases them all once (back to
    the pool they came from, if any, so their models stay loaded for the next call)."""

    def __init__(
        self, asr: ASRBackend, persona: PersonaBackend, voice: VoiceBackend, animator: AnimatorBackend
    ) -> None:
        self.asr, self.persona, self.voice, self.animator = asr, persona, voice, animator
        self.loaded = False
        self.pool: BackendPool | None = None
        self._closed = False

    @property
    def all(self) -> tuple[Backend, ...]:
        return (self.asr, self.persona, self.voice, self.animator)

    def transcribe(
        self, audio: AsyncIterable[AudioChunk], *, language: str | None, hint: str
    ) -> AsyncIterator[Transcript]:
        """The ASR's transcripts; the hint goes only to a backend whose `transcribe` takes one."""
        if _takes_hint(type(self.asr)):
            return self.asr.transcribe(audio, language=language, hint=hint)
        return self.asr.transcribe(audio, language=language)

    async def load(self) -> None:
        if not self.loaded:
            await asyncio.gather(*(b.load() for b in self.all))
            self.loaded = True

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.pool is not None:
            self.pool.release(self.all)
            return
        for backend in self.all:
            with contextlib.suppress(Exception):  # one broken backend must not keep the others open
                await backend.aclose()


@functools.cache
def _takes_hint(backend: type[ASRBackend]) -> bool:
    parameters = inspect.signature(backend.transcribe).parameters
    return "hint" in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


class BackendPool:
    """Loaded backends kept between calls, so a model loads once per process instead of once per
    call. An instance serves one call at a time; concurrent calls get instances of their own."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.idle: dict[tuple[BackendKind, str], list[Backend]] = {}

    async def acquire(self, overrides: Mapping[str, Any] | None = None) -> CallBackends:
        """Loaded backends for a call: idle ones if there are, new ones (loaded now) if not."""
        picked: dict[BackendKind, Backend] = {}
        fresh: list[Backend] = []
        try:
            for kind in BackendKind:
                name = (overrides or {}).get(kind.value) or self.registry.default_name(kind)
                stack = self.idle.get((kind, name))
                if stack:
                    picked[kind] = stack.pop()
                else:
                    picked[kind] = self.registry.create(kind, name)
                    fresh.append(picked[kind])
            await asyncio.gather(*(b.load() for b in fresh))
        except BaseException:
            self.release([b for b in picked.values() if b not in fresh])
            for backend in fresh:
                with contextlib.suppress(Exception):
                    await backend.aclose()
            raise
        backends = CallBackends(
            asr=cast(ASRBackend, picked[BackendKind.ASR]),
            persona=cast(PersonaBackend, picked[BackendKind.PERSONA]),
            voice=cast(VoiceBackend, picked[BackendKind.VOICE]),
            animator=cast(AnimatorBackend, picked[BackendKind.ANIMATOR]),
        )
        backends.loaded, backends.pool = True, self
        return backends

    def release(self, backends: tuple[Backend, ...] | list[Backend]) -> None:
        for backend in backends:
            if not backend.closed:
                self.idle.setdefault((backend.info.kind, backend.info.name), []).append(backend)

    async def aclose(self) -> None:
        """Close every idle backend (at shutdown)."""
        idle, self.idle = self.idle, {}
        for stack in idle.values():
            for backend in stack:
                with contextlib.suppress(Exception):
                    await backend.aclose()
