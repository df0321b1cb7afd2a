"""Memories retold in the person's own voice, addressed to the user."""

from __future__ import annotations

import pytest

from server.persona.character import character_of
from server.persona.perspective import pronoun_of, retell


@pytest.mark.parametrize(
    ("memory", "expected"),
    [
        ("She took Tom to Whitby every July.", "I took you to Whitby every July."),
        ("Mum taught me to swim in the lake.", "I taught you to swim in the lake."),
        ("Her garden was full of roses.", "My garden was full of roses."),
        ("Margaret's kitchen always smelled of bread.", "My kitchen always smelled of bread."),
        ("Tom and Margaret went fishing with his uncle.", "You and I went fishing with your uncle."),
        ("She always loves a good storm.", "I always love a good storm."),
        ("They danced in the kitchen every New Year.", "We danced in the kitchen every New Year."),
    ],
)
def test_retell_moves_pronouns_only(memory: str, expected: str) -> None:
    assert retell(memory, name="Margaret", relationship="mother", user_name="Tom", pronoun="she") == expected


def test_other_people_keep_their_pronouns() -> None:
    said = retell(
        "He built Priya a go-kart for her tenth birthday.",
        name="Frank",
        relationship="father",
        user_name="Priya",
        pronoun="he",
    )
    assert said == "I built you a go-kart for your tenth birthday."


def test_pronoun_from_relationship_or_memories() -> None:
    assert pronoun_of("grandmother") == "she"
    assert pronoun_of("husband") == "he"
    assert pronoun_of("best friend", ("She laughed at everything.", "Her bike was red.")) == "she"
    assert pronoun_of("friend") == ""


def test_character_reads_pet_names_catchphrases_and_terseness(sam, rosa) -> None:  # type: ignore[no-untyped-def]
    assert character_of(rosa).pet_names == ("cara mia",)
    assert "Eat, eat, you're too thin!" in character_of(rosa).catchphrases
    assert character_of(sam).terse and not character_of(rosa).terse
    assert character_of(sam).retold[0] == "You and I built a treehouse in the oak tree behind the house."
