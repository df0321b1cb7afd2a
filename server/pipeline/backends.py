"""The four backends one call uses, borrowed from the pool for the call's length.

The pipeline calls them through `CallBackends`, which notes a backend whose stream raised so that
it is closed at the end of the call instead of going back to the pool.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from typing import TypeVar

import msgspec

from server.backends import (
    AnimatorBackend,
    ASRBackend,
    AvatarFace,
    Backend,
    BackendKind,
    PersonaBackend,
    PersonaSheet,
    Turn,
    VoiceBackend,
    VoiceProfile,
)
from server.media import AudioChunk, AvatarState, Emotion, TextDelta, Transcript, VideoFrame
from server.pool import BackendPool, close_backend

T = TypeVar("T")
Animate = Callable[..., AsyncIterator[VideoFrame]]  # AnimatorBackend.animate, through CallBackends


class CallAvatar(msgspec.Struct, frozen=True):
    """Everything a call needs to know about the person on the other side."""

    face: AvatarFace
    sheet: PersonaSheet
    voice: VoiceProfile = VoiceProfile()
    backends: dict[str, str] = msgspec.field(default_factory=dict)  # kind -> backend name
    avatar_id: int | None = None
    photo_id: int | None = None  # the avatar_images row shown (keys the render cache)


class CallBackends:
    """ASR, persona, voice and animator for one call; `aclose()` gives them back once."""

    def __init__(
        self,
        asr: ASRBackend,
        persona: PersonaBackend,
        voice: VoiceBackend,
        animator: AnimatorBackend,
        *,
        pool: BackendPool | None = None,
    ) -> None:
        self.asr, self.persona, self.voice, self.animator = asr, persona, voice, animator
        self.pool = pool
        self.failed: set[Backend] = set()
        self.loaded = pool is not None  # a pool hands out loaded backends
        self._closed = False

    @classmethod
    async def borrow(cls, pool: BackendPool, names: dict[BackendKind, str]) -> CallBackends:
        """Loaded backends for a call from `pool`; nothing stays borrowed if one cannot load."""
        taken: list[Backend] = []
        try:
            for kind, base in (
                (BackendKind.ASR, ASRBackend),
                (BackendKind.PERSONA, PersonaBackend),
                (BackendKind.VOICE, VoiceBackend),
                (BackendKind.ANIMATOR, AnimatorBackend),
            ):
                taken.append(await pool.take(base, names[kind]))
        except BaseException:
            for backend in taken:
                await pool.give_back(backend)
            raise
        asr, persona, voice, animator = taken
        return cls(asr, persona, voice, animator, pool=pool)  # type: ignore[arg-type]

    @property
    def all(self) -> tuple[Backend, ...]:
        return (self.asr, self.persona, self.voice, self.animator)

    # -- the streams, watched for failures ---------------------------------------------------------

    def transcribe(
        self, audio: AsyncIterable[AudioChunk], *, language: str | None, hint: str
    ) -> AsyncIterator[Transcript]:
        """The ASR's transcripts; the hint goes only to a backend whose `transcribe` takes one."""
        if _takes_hint(type(self.asr)):
            return self._watched(self.asr, self.asr.transcribe(audio, language=language, hint=hint))
        return self._watched(self.asr, self.asr.transcribe(audio, language=language))

    def respond(self, history: Sequence[Turn], *, persona: PersonaSheet) -> AsyncIterator[TextDelta]:
        return self._watched(self.persona, self.persona.respond(history, persona=persona))

    def synthesize(self, text: str, *, voice: VoiceProfile) -> AsyncIterator[AudioChunk]:
        return self._watched(self.voice, self.voice.synthesize(text, voice=voice))

    def animate(
        self, audio: AsyncIterable[AudioChunk], *, avatar: AvatarFace, emotion: Emotion, state: AvatarState
    ) -> AsyncIterator[VideoFrame]:
        return self._watched(self.animator, self.animator.animate(audio, avatar=avatar, emotion=emotion, state=state))

    async def prepare(self, face: AvatarFace) -> None:
        try:
            await self.animator.prepare(face)
        except Exception:
            self.failed.add(self.animator)
            raise

    async def _watched(self, backend: Backend, stream: AsyncIterator[T]) -> AsyncIterator[T]:
        try:
            async with aclosing(stream):  # type: ignore[type-var]
                async for item in stream:
                    yield item
        except Exception:
            self.failed.add(backend)
            raise

    # -- lifecycle ---------------------------------------------------------------------------------

    async def load(self) -> None:
        if not self.loaded:
            await asyncio.gather(*(b.load() for b in self.all))
            self.loaded = True

    async def aclose(self) -> None:
        """Give each backend back (a failed one is closed); close them all without a pool."""
        if self._closed:
            return
        self._closed = True
        for backend in self.all:
            if self.pool is not None:
                await self.pool.give_back(backend, failed=backend in self.failed)
            else:
                await close_backend(backend)


@functools.cache
def _takes_hint(backend: type[ASRBackend]) -> bool:
    parameters = inspect.signature(backend.transcribe).parameters
    return "hint" in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
