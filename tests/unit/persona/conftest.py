"""Sheets and a configurable fake persona stream shared by the persona unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from server.backends import PersonaSheet
from server.media import TextDelta


@pytest.fixture
def rosa() -> PersonaSheet:
    return PersonaSheet(
        name="Rosa Esposito",
        relationship="grandmother",
        user_name="Lily",
        personality="gentle, proud, stubborn about food",
        speaking_style="calls Lily 'cara mia', hums old songs",
        memories=(
            "She taught Lily to knit scarves every winter by the fire.",
            "Every Christmas she baked almond biscuits and let Lily sprinkle the sugar.",
            "She grew up in Naples and moved to Glasgow in 1962.",
            "She and Lily watched old films on rainy Sunday afternoons.",
        ),
        example_phrases=("Eat, eat, you're too thin!",),
    )


@pytest.fixture
def sam() -> PersonaSheet:
    return PersonaSheet(
        name="Sam",
        relationship="brother",
        user_name="Alex",
        personality="quiet, loyal",
        speaking_style="few words, calls Alex 'mate'",
        memories=(
            "Sam and Alex built a treehouse in the oak tree behind the house.",
            "Sam drove Alex to every football match in his old blue van.",
        ),
    )


@dataclass
class FakeStream:
    """Plays `chunks` as a persona backend would; knobs for delays and failures; records closing."""

    chunks: list[str]
    delay_s: float = 0.0
    fail_after: int | None = None  # raise RuntimeError after this many chunks
    closed: bool = False
    sent: list[str] = field(default_factory=list)

    async def stream(self) -> AsyncIterator[TextDelta]:
        try:
            for i, chunk in enumerate(self.chunks):
                if self.fail_after is not None and i >= self.fail_after:
                    raise RuntimeError("fake backend failure")
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                self.sent.append(chunk)
                yield TextDelta(chunk)
        finally:
            self.closed = True


@pytest.fixture
def fake() -> type[FakeStream]:
    return FakeStream
