"""What the user's words are doing decides the shape of the grounded reply."""

from __future__ import annotations

import pytest

from server.backends import PersonaSheet, Role, Turn
from server.persona.compose import compose
from server.persona.intent import Intent, intent_of


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I don't think I can do this anymore.", Intent.CRISIS),
        ("Is this real?", Intent.ASKS_IF_REAL),
        ("Are you proud of me?", Intent.REASSURE_YES),
        ("Do you still love me?", Intent.REASSURE_YES),
        ("Are you angry with me?", Intent.REASSURE_NO),
        ("I feel so guilty that I wasn't there.", Intent.REASSURE_NO),
        ("Do you remember the caravan?", Intent.REMEMBER),
        ("Tell me a story.", Intent.STORY),
        ("We had a baby boy last night!", Intent.GOOD_NEWS),
        ("I love you.", Intent.LOVE),
        ("I miss you so much.", Intent.MISSING),
        ("Why did you have to leave?", Intent.SAD),
        ("What should I do about the house?", Intent.ADVICE),
        ("Where did you grow up?", Intent.QUESTION),
        ("Goodbye for now.", Intent.FAREWELL),
        ("Can you hear me?", Intent.GREETING),
        ("Hello!", Intent.GREETING),
        ("I took the bus into town.", Intent.STATEMENT),
    ],
)
def test_intents(text: str, intent: Intent) -> None:
    assert intent_of(text) is intent


def reply(sheet: PersonaSheet, *texts: str) -> str:
    history = [Turn(Role.USER, t) for t in texts]
    return " ".join(s.text for s in compose(history, sheet))


def test_a_question_the_memories_answer_is_answered_from_them(rosa: PersonaSheet) -> None:
    assert "Naples" in reply(rosa, "Where did you grow up?")


def test_a_question_they_do_not_answer_admits_it_without_inventing(rosa: PersonaSheet) -> None:
    said = reply(rosa, "What was your first dog called?")
    assert "remember" in said
    assert not {w for w in said.replace(".", " ").split() if w[:1].isupper()} - {"You've", "Lily:", "I", "Tell", "Lily"}


def test_story_request_tells_a_memory_even_without_shared_words(rosa: PersonaSheet) -> None:
    said = reply(rosa, "Tell me a story.")
    assert any(key in said for key in ("knit", "almond", "Naples", "films"))


def test_small_talk_does_not_drag_in_an_unrelated_memory(sam: PersonaSheet) -> None:
    said = reply(sam, "I took the bus into town.")
    assert "treehouse" not in said and "van" not in said


def test_warm_answers_to_the_questions_that_matter(rosa: PersonaSheet) -> None:
    assert "love you too" in reply(rosa, "I love you.")
    assert any(k in reply(rosa, "Are you angry with me?") for k in ("not for a moment", "nothing to forgive"))
    assert any(k in reply(rosa, "Are you proud of me?") for k in ("Of course", "never need to ask"))
