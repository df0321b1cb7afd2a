"""Speech recognition: the user's audio in, transcripts out."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterable, AsyncIterator

from server.backends.base import Backend
from server.media import AudioChunk, Transcript


class ASRBackend(Backend):
    """Turns one utterance's audio into text.

    `transcribe` consumes chunks as they arrive, may yield partial transcripts while the user is
    still speaking, and ends with exactly one final transcript once the audio stream ends.

    `hint` is a short text with words the user is likely to say in this call (the person's name,
    the names and places in their memories). A backend that can bias its recognition with it
    should; one that cannot ignores it. Backends written before it existed (no `hint` argument)
    still work: the call only passes it to those that accept it.
    """

    @abstractmethod
    def transcribe(
        self, audio: AsyncIterable[AudioChunk], *, language: str | None = None, hint: str = ""
    ) -> AsyncIterator[Transcript]:
        """Stream transcripts for the audio; the last one yielded has `final=True`."""
