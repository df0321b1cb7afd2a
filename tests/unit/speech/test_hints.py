from __future__ import annotations

from server.backends import PersonaSheet
from server.speech.hints import MAX_NAMES, speech_hint


def test_names_and_places_of_the_sheet_make_one_sentence() -> None:
    sheet = PersonaSheet(
        name="Grandma Rosalind",
        user_name="pumpkin",
        memories=(
            "We spent every August in Bexhill with Aunt Philippa.",
            "Oswin drove us to Tavistock market; I bought you a kite there.",
            "Marguerite's wedding was the day it snowed.",
        ),
    )
    hint = speech_hint(sheet)
    assert hint.startswith("We talk about ") and hint.endswith(".")
    for name in (
        "Grandma",
        "Rosalind",
        "pumpkin",
        "Bexhill",
        "August",
        "Aunt",
        "Philippa",
        "Oswin",
        "Tavistock",
        "Marguerite",
    ):
        assert name in hint
    assert "We," not in hint and " I," not in hint and "Marguerite's" not in hint


def test_a_sheet_without_names_gives_no_hint() -> None:
    assert speech_hint(PersonaSheet(name="", memories=("we baked bread on sundays",))) == ""


def test_the_hint_stays_short() -> None:
    letters = "abcdefghij"
    many = tuple(f"We met {a.upper()}{b}on at {b.upper()}{a}ford." for a in letters for b in letters)
    assert speech_hint(PersonaSheet(name="Ann", memories=many)).count(",") == MAX_NAMES - 2
