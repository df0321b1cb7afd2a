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
    """

    @abstractmethod
    def transcribe(self, audio: AsyncIterable[AudioChunk], *, language: str | None = None) -> AsyncIterator[Transcript]:
        """Stream transcripts for the audio; the last one yielded has `final=True`."""
