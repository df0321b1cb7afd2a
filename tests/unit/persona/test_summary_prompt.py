"""Rolling summaries for long calls, and the prompt LLM backends send."""

from __future__ import annotations

from server.backends import PersonaSheet, Role, Turn
from server.persona.prompt import build_prompt
from server.persona.summary import condense


def long_call(n: int) -> list[Turn]:
    history = []
    for i in range(n):
        history.append(Turn(Role.USER, f"Topic {i}: I repainted fence number {i} in the garden."))
        history.append(Turn(Role.AVATAR, f"Lovely, reply {i}."))
    return history


def test_short_history_is_kept_whole() -> None:
    history = long_call(3)
    condensed = condense(history)
    assert condensed.summary == "" and list(condensed.recent) == history


def test_long_history_keeps_recent_turns_and_summarises_within_budget() -> None:
    history = long_call(200)
    condensed = condense(history, keep=8, budget=300)
    assert list(condensed.recent) == history[-8:]
    assert len(condensed.summary) <= 300 + len("Earlier in this call the user said: .")
    assert "fence number 195" in condensed.summary  # the newest older turn survives
    assert "fence number 3 " not in condensed.summary  # the oldest are rolled off


def test_prompt_carries_sheet_relevant_memories_first_and_rules(rosa: PersonaSheet) -> None:
    history = [
        Turn(Role.USER, "Hello Nonna"),
        Turn(Role.AVATAR, "Ciao, cara mia."),
        Turn(Role.USER, "What did you bake at Christmas?"),
    ]
    prompt = build_prompt(history, rosa)
    assert prompt.system.startswith("You are Rosa Esposito, Lily's grandmother.")
    relevant = prompt.system.index("Memories that fit")
    assert prompt.system.index("almond biscuits") > relevant
    assert prompt.system.index("almond biscuits") < prompt.system.index("Other shared memories")
    assert "cara mia" in prompt.system and "Eat, eat" in prompt.system
    assert "crisis line" in prompt.system and "Never invent" in prompt.system
    assert prompt.messages == (
        ("user", "Hello Nonna"),
        ("assistant", "Ciao, cara mia."),
        ("user", "What did you bake at Christmas?"),
    )


def test_prompt_of_a_long_call_includes_the_summary(rosa: PersonaSheet) -> None:
    prompt = build_prompt(long_call(30), rosa)
    assert "Earlier in this call the user said" in prompt.system
    assert len(prompt.messages) == 8
