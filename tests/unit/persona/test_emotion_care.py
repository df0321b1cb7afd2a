"""Emotion labels, crisis detection, crisis lines per country, and the flags the pipeline stores."""

from __future__ import annotations

import pytest

from plugins.grounded.backend import GroundedPersona
from server.backends import Role, Turn
from server.media import Emotion
from server.persona import care, emotion

LABELLED = [
    ("I got the job!", Emotion.HAPPY),
    ("We're getting married in June!", Emotion.HAPPY),
    ("That is wonderful, I'm so happy for you.", Emotion.HAPPY),
    ("I miss you so much.", Emotion.SAD),
    ("The funeral was last week and I cried all day.", Emotion.SAD),
    ("Wow, I can't believe it!", Emotion.SURPRISED),
    ("I wonder what you would have said.", Emotion.THOUGHTFUL),
    ("Do you remember the old house?", Emotion.THOUGHTFUL),
    ("I took the bus to work.", Emotion.NEUTRAL),
]


@pytest.mark.parametrize(("text", "expected"), LABELLED)
def test_emotion_labels(text: str, expected: Emotion) -> None:
    assert emotion.classify(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "Some days I don't want to go on living.",
        "I want to die.",
        "I've been thinking about killing myself.",
        "I keep wanting to hurt myself.",
        "Everyone would be better off without me.",
        "I just want to join you.",
        "There's no point in living anymore.",
    ],
)
def test_crisis_is_detected(text: str) -> None:
    assert care.detect_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm dying to tell you about my new job.",
        "I would never hurt myself, don't worry.",
        "The garden is killing me this summer.",
        "I miss you so much.",
    ],
)
def test_ordinary_words_are_not_a_crisis(text: str) -> None:
    assert not care.detect_crisis(text)


def test_flags_name_the_country_line_and_config_overrides_it() -> None:
    history = [Turn(Role.USER, "hi"), Turn(Role.AVATAR, "hello"), Turn(Role.USER, "I want to end my life.")]
    flags = care.care_flags(history, country="gb")
    assert flags["crisis"] is True and flags["country"] == "GB"
    assert flags["crisis_line"]["phone"] == "116 123"
    custom = care.care_flags(history, country="GB", lines={"GB": {"name": "Local line", "phone": "0800 000"}})
    assert custom["crisis_line"] == {"name": "Local line", "phone": "0800 000", "text": "", "url": ""}
    unknown = care.care_flags(history, country="ZZ")
    assert unknown["crisis_line"]["name"] == care.FALLBACK_LINE.name


def test_no_flags_when_all_is_well() -> None:
    assert care.care_flags([Turn(Role.USER, "I planted tomatoes today.")], country="US") == {}


def test_sincere_question_about_reality() -> None:
    assert care.asks_if_real("Are you real?")
    assert care.asks_if_real("Is this really you, Dad?")
    assert care.asks_if_real("Am I talking to a computer?")
    assert care.asks_if_real("Are you really Rosa?", "Rosa")
    assert not care.asks_if_real("It feels like you're really here.")
    assert not care.asks_if_real("Are you really happy with the garden?")
    flags = care.care_flags([Turn(Role.USER, "Is this real?")])
    assert flags == {"disclosed_ai": True}


def test_flags_follow_the_backend_config() -> None:
    history = [Turn(Role.USER, "I keep thinking about ending my life.")]
    flags = care.care_flags(history, **GroundedPersona({"country": "AU"}).care_settings())
    assert flags["crisis"] and flags["crisis_line"]["phone"] == "13 11 14"
