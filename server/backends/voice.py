"""Speech synthesis in the person's voice."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import msgspec

from server.backends.base import Backend
from server.media import AudioChunk


class VoiceProfile(msgspec.Struct, frozen=True):
    """The person's voice: their uploaded samples and whatever a backend learned from them."""

    samples: tuple[Path, ...] = ()
    learned: Mapping[str, Any] = msgspec.field(default_factory=dict)  # backend-specific, stored


class VoiceBackend(Backend):
    """Speaks text; chunks may carry phoneme timings the animator uses for lip shapes."""

    @abstractmethod
    def synthesize(self, text: str, *, voice: VoiceProfile) -> AsyncIterator[AudioChunk]:
        """Stream audio for `text`, first chunk as early as possible."""

    async def learn(self, samples: tuple[Path, ...]) -> Mapping[str, Any]:
        """Study the person's samples once; the result is stored and passed back in VoiceProfile."""
        return {}

    def clearer(self, learned: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """Versions of `learned` that trade likeness for clarity, least change first: tried in turn
        when the learned voice garbles words (server/domain/voice_check.py). None by default."""
        return []
