"""GroundedPersona: answers in the person's voice using only what the sheet says.

Retrieves the memory that fits the user's words, retells it as the person speaking to the user,
and wraps it in short warm lines chosen by what the user is doing (news, grief, a question...).
Cannot invent people, places or facts; about a millisecond per reply on one CPU core.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from server.backends import BackendInfo, BackendKind, PersonaBackend, PersonaSheet, Turn
from server.media import TextDelta
from server.persona import emotion
from server.persona.character import character_of
from server.persona.compose import Sentence, compose
from server.persona.config import PersonaConfig
from server.persona.guard import guarded
from server.persona.semantic import SemanticRetriever, make_retriever


class GroundedPersona(PersonaBackend):
    """Offline, model-free persona.

    Config: `country` (crisis line), `crisis_lines` (overrides per country code),
    `retrieval` ("lexical" default, "semantic" or "auto" with the `embeddings` extra).
    """

    info = BackendInfo(
        name="grounded",
        kind=BackendKind.PERSONA,
        description="Replies composed from the avatar sheet and retrieved memories; offline, no model, CPU.",
        streaming=True,
        device="cpu",
        realtime=True,
        requires=("vaderSentiment",),
        install="pip install vaderSentiment==3.3.2",
        config=PersonaConfig,
        docs="plugins/grounded/README.md",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retriever = make_retriever(self.config.get("retrieval"))

    async def load(self) -> None:
        await asyncio.to_thread(emotion.polarity, "warm up")  # loads VADER's lexicon once
        if isinstance(self.retriever, SemanticRetriever):
            await asyncio.to_thread(self.retriever.load)

    def respond(self, history: Sequence[Turn], *, persona: PersonaSheet) -> AsyncIterator[TextDelta]:
        return guarded(
            self._compose(tuple(history), persona),
            persona,
            history,
            country=self.config.get("country"),
            crisis_lines=self.config.get("crisis_lines"),
            retriever=self.retriever,
        )

    async def _compose(self, history: tuple[Turn, ...], persona: PersonaSheet) -> AsyncIterator[TextDelta]:
        # Digesting a sheet with thousands of memories takes a moment the first time: not on the loop.
        sentences = await asyncio.to_thread(self._sentences, history, persona)
        for i, sentence in enumerate(sentences):
            yield TextDelta(sentence.text if i == 0 else " " + sentence.text, emotion=sentence.emotion)

    def _sentences(self, history: tuple[Turn, ...], persona: PersonaSheet) -> list[Sentence]:
        character_of(persona)
        return compose(
            history,
            persona,
            country=self.config.get("country"),
            crisis_lines=self.config.get("crisis_lines"),
            retriever=self.retriever,
        )
