"""basic-persona: answers from the persona sheet with fixed templates, streamed word by word.

No language model: it greets the user by the name the person used, recalls one memory per turn
(in order), and asks something back. Good enough to hear and see a whole call; `reply` in the
config replaces the answer (tests).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from plugins.basic.faults import FaultConfig, Faults
from server.backends import BackendInfo, BackendKind, PersonaBackend, PersonaSheet, Role, Turn
from server.media import Emotion, TextDelta

SAD_WORDS = ("miss", "sad", "lonely", "cry", "lost", "hard")
HAPPY_WORDS = ("hello", "hi", "good", "happy", "love", "great", "hey")


class BasicPersonaConfig(FaultConfig, frozen=True):
    """`[config.basic-persona]`."""

    reply: str | None = None  # always answer this (tests)


class BasicPersona(PersonaBackend):
    info = BackendInfo(
        name="basic-persona",
        kind=BackendKind.PERSONA,
        description="Template replies built from the persona sheet; no language model (tests, demos).",
        config=BasicPersonaConfig,
        docs="plugins/basic/README.md",
    )
    options: BasicPersonaConfig

    def __init__(
        self, config: Mapping[str, Any] | BasicPersonaConfig | None = None, *, weights_dir: Path | None = None
    ) -> None:
        super().__init__(config, weights_dir=weights_dir)
        self.faults = Faults(self.options, self.info.name)
        self.fixed_reply: str | None = self.options.reply

    async def respond(self, history: Sequence[Turn], *, persona: PersonaSheet) -> AsyncIterator[TextDelta]:
        user_text = next((t.text for t in reversed(history) if t.role is Role.USER), "")
        turn_number = sum(1 for t in history if t.role is Role.USER)
        emotion = _emotion_for(user_text)
        reply = self.fixed_reply or compose_reply(user_text, persona, turn_number, emotion)
        for index, piece in enumerate(re.findall(r"\S+\s*", reply)):
            await self.faults.before_item(index)
            yield TextDelta(text=piece, emotion=emotion if index == 0 else None)


def compose_reply(user_text: str, persona: PersonaSheet, turn_number: int, emotion: Emotion) -> str:
    """A short reply in the person's name: address, a memory if any, a question back."""
    name = persona.user_name or "love"
    if emotion is Emotion.SAD:
        opening = f"Oh {name}, I know it is hard."
    elif turn_number <= 1:
        opening = f"Hello {name}, it is so good to hear your voice."
    else:
        opening = f"I am listening, {name}."
    middle = ""
    if persona.memories:
        memory = persona.memories[(turn_number - 1) % len(persona.memories)].strip().rstrip(".")
        middle = f" Do you remember? {memory[0].upper()}{memory[1:]}."
    closing = " Tell me about your day." if "?" not in user_text else " What made you think of that?"
    return opening + middle + closing


def _emotion_for(text: str) -> Emotion:
    words = set(re.findall(r"[a-z']+", text.lower()))
    if words & set(SAD_WORDS):
        return Emotion.SAD
    if words & set(HAPPY_WORDS):
        return Emotion.HAPPY
    return Emotion.THOUGHTFUL if "?" in text else Emotion.NEUTRAL
