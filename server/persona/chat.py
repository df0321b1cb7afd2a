"""Base for persona backends that call a chat model: prompt in, text chunks out, guard around.

A subclass only implements `stream_text`; building the prompt, regenerating a reply the guard
rejected, labelling emotions and the care rules are the same for every model.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import AsyncIterator, Sequence

import msgspec

from server.backends import PersonaBackend, PersonaSheet, Turn
from server.media import TextDelta
from server.persona.guard import guarded
from server.persona.prompt import ChatPrompt, build_prompt
from server.persona.retrieval import Retriever
from server.persona.semantic import SemanticRetriever, make_retriever

RETRY_NOTE = (
    "Your previous answer broke the rules above. Answer again in one or two short sentences, in character, "
    "using only the memories listed."
)
DEFAULT_MAX_TOKENS = 120
DEFAULT_TEMPERATURE = 0.7


class ChatPersonaBackend(PersonaBackend):
    """A persona answered by a chat model.

    Config shared by all: temperature, max_tokens, country, crisis_lines, retrieval.
    """

    _retriever: Retriever | None = None

    @abstractmethod
    def stream_text(self, prompt: ChatPrompt) -> AsyncIterator[str]:
        """Stream the model's reply to `prompt` as text chunks."""

    @property
    def max_tokens(self) -> int:
        return int(self.config.get("max_tokens", DEFAULT_MAX_TOKENS))

    @property
    def temperature(self) -> float:
        return float(self.config.get("temperature", DEFAULT_TEMPERATURE))

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = make_retriever(self.config.get("retrieval"))
        return self._retriever

    async def load_retriever(self) -> None:
        """Load the semantic model if the config asks for it (subclasses call this from load())."""
        if isinstance(self.retriever, SemanticRetriever):
            await asyncio.to_thread(self.retriever.load)

    def respond(self, history: Sequence[Turn], *, persona: PersonaSheet) -> AsyncIterator[TextDelta]:
        history = tuple(history)
        return guarded(
            self._deltas(history, persona, retry=False),
            persona,
            history,
            regenerate=lambda: self._deltas(history, persona, retry=True),
            country=self.config.get("country"),
            crisis_lines=self.config.get("crisis_lines"),
            retriever=self.retriever,
        )

    async def _deltas(
        self, history: tuple[Turn, ...], persona: PersonaSheet, *, retry: bool
    ) -> AsyncIterator[TextDelta]:
        prompt = await asyncio.to_thread(build_prompt, history, persona, retriever=self.retriever)
        if retry:
            prompt = msgspec.structs.replace(prompt, system=prompt.system + "\n" + RETRY_NOTE)
        stream = self.stream_text(prompt)
        try:
            async for chunk in stream:
                if chunk:
                    yield TextDelta(chunk)
        finally:
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                await closer()
