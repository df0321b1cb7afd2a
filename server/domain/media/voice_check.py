"""Is a learned voice still easy to understand? Checked once after learning, before calls use it.

A likeness that garbles words (a voice converter pushed too far by unusual samples) is worse than
no likeness: the person on the call hears the avatar mumble. So after a voice backend learns, two
test sentences are spoken with the learned voice and with the unadapted one, and the call's speech
recogniser reads both back. If the learned voice loses clearly more words, the backend's clearer
versions of it (`VoiceBackend.clearer`, e.g. Piper's: gentler mapping, then the person's average
colour only) are tried in turn; if none is clear either, no likeness is used and the user is told
why (see `media_jobs.learn_voice`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import msgspec

from server.backends import ASRBackend, VoiceBackend, VoiceProfile
from server.media import AudioChunk
from server.speech.wer import wer

SENTENCES = (
    "Good morning, it is lovely to hear your voice again.",
    "Do you remember the little house by the river?",
)
MAX_EXTRA_WER = 0.2  # words the learned voice may lose beyond the unadapted one (~4 of these 19)


class Clarity(msgspec.Struct, frozen=True):
    """Word error rates of the test sentences read back: learned voice vs the unadapted one."""

    learned_wer: float
    plain_wer: float

    @property
    def unclear(self) -> bool:
        return self.learned_wer > self.plain_wer + MAX_EXTRA_WER

    def reason(self) -> str:
        return (
            f"the learned voice was hard to understand: speech recognition misread {self.learned_wer:.0%} of the"
            f" words of a test sentence ({self.plain_wer:.0%} with the unadapted voice), so calls use the"
            " unadapted voice"
        )


async def clearest(
    voice: VoiceBackend, asr: ASRBackend, samples: tuple[Path, ...], learned: Mapping[str, Any]
) -> tuple[Mapping[str, Any] | None, Clarity]:
    """The closest clear version of `learned` (itself if clear; None if no version is), and the
    clarity of that version (or of `learned` itself when none is clear)."""
    plain = await read_back(voice, asr, VoiceProfile())
    first: Clarity | None = None
    for candidate in [learned, *voice.clearer(learned)]:
        result = Clarity(learned_wer=await read_back(voice, asr, VoiceProfile(samples, candidate)), plain_wer=plain)
        if not result.unclear:
            return candidate, result
        first = first or result
    assert first is not None
    return None, first


async def read_back(voice: VoiceBackend, asr: ASRBackend, profile: VoiceProfile) -> float:
    """Word error rate of the test sentences spoken with `profile`, as `asr` hears them."""
    heard = []
    for sentence in SENTENCES:
        chunks = [chunk async for chunk in voice.synthesize(sentence, voice=profile)]
        final = ""
        async for transcript in asr.transcribe(_replay(chunks), language="en"):
            if transcript.final:
                final = transcript.text
        heard.append(final)
    return wer(list(SENTENCES), heard)


async def _replay(chunks: list[AudioChunk]) -> AsyncIterator[AudioChunk]:
    for chunk in chunks:
        yield chunk
