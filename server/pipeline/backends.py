"""The four backends one call uses, borrowed from the pool for the call's length.

The pipeline calls them through `CallBackends`, which notes a backend whose stream raised so that
it is closed at the end of the call instead of going back to the pool.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
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

log = logging.getLogger(__name__)
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
        slow: AnimatorBackend | None = None,
    ) -> None:
        self.asr, self.persona, self.voice, self.animator = asr, persona, voice, animator
        # The animator asked for when it cannot keep up here: `animator` is then the fallback shown
        # live, and this one renders the call's sentences afterwards (server/renders/background.py).
        self.slow = slow
        self.problem = ""  # why the asked-for animator is not used at all (it failed to load)
        self.pool = pool
        self.failed: set[Backend] = set()
        self.loaded = pool is not None  # a pool hands out loaded backends
        self._closed = False

    @classmethod
    async def borrow(
        cls, pool: BackendPool, names: dict[BackendKind, str], *, fallback: str | None = None
    ) -> CallBackends:
        """Loaded backends for a call from `pool`; nothing stays borrowed if one cannot load. With a
        `fallback` animator: one that does not keep up here is kept as `slow` while the fallback is
        shown live, and one that cannot load at all is replaced by it (`problem` says why)."""
        taken: list[Backend] = []
        slow: AnimatorBackend | None = None
        problem = ""
        try:
            for kind, base in ((BackendKind.ASR, ASRBackend), (BackendKind.PERSONA, PersonaBackend)):
                taken.append(await pool.take(base, names[kind]))
            taken.append(await pool.take(VoiceBackend, names[BackendKind.VOICE]))
            wanted = names[BackendKind.ANIMATOR]
            use_fallback = fallback is not None and fallback != wanted
            try:
                animator = await pool.take(AnimatorBackend, wanted)
            except Exception as exc:  # a missing, corrupt or wrong checkpoint: show the fallback
                if not use_fallback:
                    raise
                log.warning("animator %s could not start; showing %s: %s", wanted, fallback, exc)
                problem = f"{wanted} could not start (`memoria plugins` on the server says why)"
                animator = await pool.take(AnimatorBackend, str(fallback))
            if use_fallback and not problem and not animator.keeps_up():
                slow, animator = animator, await pool.take(AnimatorBackend, str(fallback))
        except BaseException:
            for backend in [*taken, *([slow] if slow else [])]:
                await pool.give_back(backend)
            raise
        asr, persona, voice = taken
        backends = cls(asr, persona, voice, animator, pool=pool, slow=slow)  # type: ignore[arg-type]
        backends.problem = problem
        return backends

    @property
    def all(self) -> tuple[Backend, ...]:
        live = (self.asr, self.persona, self.voice, self.animator)
        return live if self.slow is None else (*live, self.slow)

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
