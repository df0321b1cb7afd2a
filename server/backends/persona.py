"""The persona: who the avatar is, and the backend that answers as them."""

from __future__ import annotations

import enum
from abc import abstractmethod
from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec

from server.backends.base import Backend
from server.media import Emotion, TextDelta


class Role(enum.StrEnum):
    USER = "user"
    AVATAR = "avatar"


class Turn(msgspec.Struct, frozen=True):
    """One thing said in the conversation."""

    role: Role
    text: str
    emotion: Emotion | None = None


class PersonaSheet(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything the user told us about the person (the avatar format of the persona cases)."""

    name: str
    relationship: str = ""  # who they were to the user: "mother", "husband", ...
    user_name: str = ""  # what they called the user
    personality: str = ""
    speaking_style: str = ""
    memories: tuple[str, ...] = ()
    example_phrases: tuple[str, ...] = ()


class PersonaBackend(Backend):
    """Answers the user in character, streaming the reply as it is written."""

    @abstractmethod
    def respond(self, history: Sequence[Turn], *, persona: PersonaSheet) -> AsyncIterator[TextDelta]:
        """Stream the reply to the last user turn in `history`."""

    def care_settings(self) -> dict[str, Any]:
        """Where the user is, for the crisis line a user in crisis is shown (server.persona.care):
        this backend's `country` and `crisis_lines` settings, when it has them."""
        return {"country": self.config.get("country"), "lines": self.config.get("crisis_lines")}
