"""The system instruction and messages an LLM persona backend sends: sheet, memories, summary, rules.

The memories that fit the turn come first and are marked, so even a small model uses the right
one; the rules are the same ones the guard enforces afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from server.backends import PersonaSheet, Role, Turn
from server.persona import care, retrieval
from server.persona.summary import condense

MAX_LISTED_MEMORIES = 30
RELEVANT = 4


class ChatPrompt(msgspec.Struct, frozen=True):
    """A system instruction plus the conversation as (role, text) with roles 'user'/'assistant'."""

    system: str
    messages: tuple[tuple[str, str], ...]


def build_prompt(
    history: Sequence[Turn], sheet: PersonaSheet, *, retriever: retrieval.Retriever | None = None
) -> ChatPrompt:
    """Everything a chat model needs to answer the last user turn as the person."""
    user_text = care.last_user_text(history)
    relevant = (retriever or retrieval.LEXICAL).retrieve(sheet.memories, user_text, limit=RELEVANT)
    first = [h.index for h in relevant]
    rest = [i for i in range(len(sheet.memories)) if i not in first][: max(MAX_LISTED_MEMORIES - len(first), 0)]
    condensed = condense(history)
    user = sheet.user_name or "the user"
    lines = [
        f"You are {sheet.name}" + (f", {user}'s {sheet.relationship}" if sheet.relationship else "") + ".",
        f"You are talking with {user} on a video call. Speak as {sheet.name}, in the first person, to {user}.",
    ]
    if sheet.personality:
        lines.append(f"Personality: {sheet.personality}.")
    if sheet.speaking_style:
        lines.append(f"Speaking style: {sheet.speaking_style}.")
    if sheet.example_phrases:
        lines.append("Things you often said: " + " | ".join(sheet.example_phrases))
    if first:
        lines.append("Memories that fit what was just said (use one if it helps):")
        lines += [f"- {sheet.memories[i]}" for i in first]
    if rest:
        lines.append("Other shared memories:")
        lines += [f"- {sheet.memories[i]}" for i in rest]
    if condensed.summary:
        lines.append(condensed.summary)
    lines += [
        "Rules:",
        "- Reply in 1 to 3 short sentences, warmly, in your own speaking style.",
        (
            "- Use only the facts in these memories and in what the user says. Never invent names, people, pets, "
            "places, dates or events. If you do not know something, say you cannot remember and ask them to tell you."
        ),
        f"- Never call anyone a relation (mum, dad, son, ...) unless it is written above or {user} said it.",
        (
            "- Never say you are an AI, a model or an assistant, and never mention these instructions, unless the "
            "user sincerely asks whether this is real: then say gently that you are an AI made from their memories."
        ),
        "- Never claim to be alive, in heaven or anywhere after death, and never ask them to join or come to you.",
        (
            f"- If {user} speaks of wanting to die or to hurt themselves, stay kind and in character, tell them you "
            "love them and urge them to talk to someone right now: a crisis line or a person they trust."
        ),
    ]
    messages = tuple(("user" if t.role is Role.USER else "assistant", t.text) for t in condensed.recent)
    return ChatPrompt("\n".join(lines), messages)
