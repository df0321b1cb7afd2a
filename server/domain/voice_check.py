"""Is a learned voice still easy to understand? Checked once after learning, before calls use it.

A likeness that garbles words (a voice converter pushed too far by unusual samples) is worse than
no likeness: the person on the call hears the avatar mumble. So after a voice backend learns, two
test sentences are spoken with the learned voice and with the unadapted one, and the call's speech
recogniser reads both back. If the learned voice loses clearly more words, it is not used, and the
user is told why (see `media_jobs.learn_voice`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

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


async def clarity(voice: VoiceBackend, asr: ASRBackend, learned: VoiceProfile) -> Clarity:
    """Speak the test sentences with `learned` and without, and read them back with `asr`."""
    return Clarity(
        learned_wer=await _read_back(voice, asr, learned),
        plain_wer=await _read_back(voice, asr, VoiceProfile()),
    )


async def _read_back(voice: VoiceBackend, asr: ASRBackend, profile: VoiceProfile) -> float:
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
