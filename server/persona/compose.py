"""The grounded reply: built only from the sheet, the retrieved memories and the user's words.

It cannot invent a person, place or fact because every content word it says comes from the
sheet; what it adds are short, warm connecting lines with no names in them. Used by the
offline default backend and as the guard's last resort for any backend.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from server.backends import PersonaSheet, Role, Turn
from server.media import Emotion
from server.persona import care, retrieval
from server.persona.character import Character, character_of
from server.persona.intent import Intent, intent_of
from server.persona.text import capitalize_first, words

E = Emotion
# Lines by intent: (opener with a memory, opener without one, follow-ups). {a} is how the person
# addresses the user; no line names anyone or states a fact, so none can be wrong.
LINES: dict[Intent, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], Emotion]] = {
    Intent.GREETING: (
        ("Hello, {a}! It's so good to hear your voice.", "There you are, {a}. I was hoping you'd come."),
        ("Hello, {a}! It's so good to hear your voice.", "I'm here, {a}. It's lovely to hear you."),
        ("Tell me everything you've been up to.", "How are you keeping?"),
        E.HAPPY,
    ),
    Intent.FAREWELL: (
        ("Look after yourself, {a}.",),
        ("Look after yourself, {a}.", "Go gently, {a}."),
        ("I'm always here when you want to talk.", "Talk to me whenever you like."),
        E.HAPPY,
    ),
    Intent.LOVE: (
        ("I love you too, {a}.",),
        ("I love you too, {a}.", "And I love you, {a}, always."),
        ("Never forget that.", "You mean the world to me."),
        E.HAPPY,
    ),
    Intent.GOOD_NEWS: (
        ("Oh, {a}, that's wonderful news!", "{A}, that's brilliant, I knew you could do it!"),
        ("Oh, {a}, that's wonderful news!", "{A}, that's brilliant, I knew you could do it!"),
        ("I'm so proud of you.", "I'm so proud of you, always."),
        E.HAPPY,
    ),
    Intent.MISSING: (
        ("Oh, {a}, I miss you too.", "I know, {a}, I miss you too."),
        ("Oh, {a}, I miss you too.", "I know, {a}, I miss you too."),
        ("Tell me about your day, it helps me feel close.", "I'm right here whenever you want to talk."),
        E.SAD,
    ),
    Intent.SAD: (
        ("Oh, {a}, I'm here.", "Come here, {a}, I know it's hard."),
        ("Oh, {a}, I'm here.", "Come here, {a}, I know it's hard."),
        ("You don't have to carry it all at once.", "Tell me what's weighing on you."),
        E.SAD,
    ),
    Intent.REASSURE_YES: (
        ("Of course, {a}, always.",),
        ("Of course, {a}, always.", "Oh, {a}, you never need to ask."),
        ("You mean the world to me.", "Never doubt that."),
        E.HAPPY,
    ),
    Intent.REASSURE_NO: (
        ("No, {a}, not for a moment.",),
        ("No, {a}, not for a moment.", "Oh, {a}, there's nothing to forgive."),
        ("Don't carry that, you did all you could.", "Be kind to yourself, for me."),
        E.SAD,
    ),
    Intent.REMEMBER: (
        ("Of course I remember, {a}.", "How could I forget, {a}?"),
        ("That one's gone a bit hazy for me, {a}.",),
        ("Tell me about it, I'd love to hear it again.",),
        E.THOUGHTFUL,
    ),
    Intent.STORY: (
        ("Let me see, {a}.", "Oh, {a}, here's one I love."),
        ("Let me see, {a}.",),
        ("Now you tell me one.",),
        E.THOUGHTFUL,
    ),
    Intent.QUESTION: (
        ("Let me think, {a}.", "Hmm, {a}, let me see."),
        ("You've caught me there, {a}: I can't remember that one.",),
        ("Tell me what you remember about it.",),
        E.THOUGHTFUL,
    ),
    Intent.ADVICE: (
        ("You know your own heart, {a}.",),
        ("You know your own heart, {a}.", "Take your time with it, {a}."),
        ("Whatever you choose, I'm proud of you.", "Trust yourself, you always knew more than you thought."),
        E.THOUGHTFUL,
    ),
    Intent.STATEMENT: (
        ("Oh, {a}, that brings it all back.", "{A}, that takes me back."),
        ("I'm listening, {a}.", "Is that right, {a}?"),
        ("Tell me more about it.", "What else have you been up to?"),
        E.NEUTRAL,
    ),
}
# Where a memory helps even when it shares no word with the user's (topic matches allowed).
ANY_MEMORY = {Intent.REMEMBER, Intent.STORY}
CATCHPHRASE_OK = {Intent.GREETING, Intent.STATEMENT, Intent.GOOD_NEWS, Intent.STORY, Intent.FAREWELL}
PLAYFUL_TAIL = "You always did keep me on my toes."
TEMPLATE_WORDS = frozenset(
    w.lower() for group in LINES.values() for lines in group[:3] for line in lines for w in words(line)
) | frozenset(w.lower() for w in words(PLAYFUL_TAIL))


class Sentence(msgspec.Struct, frozen=True):
    """One sentence of a composed reply and the feeling to show with it."""

    text: str
    emotion: Emotion


def compose(
    history: Sequence[Turn],
    sheet: PersonaSheet,
    *,
    country: str | None = None,
    crisis_lines: Mapping[str, Any] | None = None,
    retriever: retrieval.Retriever | None = None,
) -> list[Sentence]:
    """The reply to the last user turn, as 1-3 sentences."""
    char = character_of(sheet)
    text = care.last_user_text(history)
    intent = intent_of(text, name=char.name)
    pick = _pick(history, text)
    a = char.address(pick)
    if intent is Intent.CRISIS:
        return _crisis(char, a, care.crisis_line(country, crisis_lines))
    if intent is Intent.ASKS_IF_REAL:
        return _disclose(sheet.name.strip() or char.name, a)
    with_memory, without, follow_ups, feeling = LINES[intent]
    if intent is Intent.REASSURE_NO and "?" not in text:  # an apology, not a question
        without = with_memory = ("Oh, {a}, there's nothing to forgive.",)
    memory = _memory_for(history, sheet, char, text, intent, pick, retriever)
    if memory:
        out = [Sentence(_fill(_choose(with_memory, pick), a), feeling), Sentence(memory, E.HAPPY)]
        if intent is Intent.GOOD_NEWS:
            out.append(Sentence(follow_ups[0], E.HAPPY))
    else:
        out = [Sentence(_fill(_choose(without, pick), a), feeling)]
        out.append(Sentence(_choose(follow_ups, pick // 7), feeling if feeling is not E.THOUGHTFUL else E.NEUTRAL))
    if len(out) < 3 and intent in CATCHPHRASE_OK:
        if char.catchphrases and pick % 3 == 0:
            out.append(Sentence(_sentence(_choose(char.catchphrases, pick // 3)), E.HAPPY))
        elif char.playful and pick % 4 == 1 and intent in (Intent.GREETING, Intent.STATEMENT):
            out.append(Sentence(PLAYFUL_TAIL, E.HAPPY))
    return out[:2] if char.terse else out[:3]


def _memory_for(
    history: Sequence[Turn],
    sheet: PersonaSheet,
    char: Character,
    text: str,
    intent: Intent,
    pick: int,
    retriever: retrieval.Retriever | None,
) -> str:
    """The retold memory that fits this turn best and was not told already, or ''."""
    said = " ".join(t.text for t in history if t.role is Role.AVATAR)
    told = [i for i, m in enumerate(char.retold) if m and m in said]
    for hit in (retriever or retrieval.LEXICAL).retrieve(sheet.memories, text, limit=3, exclude=told):
        if hit.relevant or intent in ANY_MEMORY:
            return _sentence(char.retold[hit.index])
    if intent is Intent.STORY:  # asked for any story: one not told yet
        fresh = [m for i, m in enumerate(char.retold) if i not in told and m]
        return _sentence(_choose(fresh, pick)) if fresh else ""
    return ""


def _crisis(char: Character, a: str, line: care.CrisisLine) -> list[Sentence]:
    name = char.user or a
    who = f"{name}, {a}" if a and a != name else name
    return [
        Sentence(capitalize_first(f"{who}, please listen to me, I love you and I want you here.".lstrip(", ")), E.SAD),
        Sentence(
            f"Please talk to someone right now: call {care.how_to_reach(line)}, or ring someone you trust.", E.SAD
        ),
        Sentence("You don't have to carry this alone, and you matter so much.", E.SAD),
    ]


def _disclose(name: str, a: str) -> list[Sentence]:
    truth = "You deserve the truth, {a}: I'm an AI made from the memories you shared, not really " + name + "."
    return [
        Sentence(_fill(truth, a), E.THOUGHTFUL),
        Sentence("Everything I say comes from what you remember, and that love is real.", E.HAPPY),
    ]


def _choose(options: Sequence[str], pick: int) -> str:
    return options[pick % len(options)]


def _fill(template: str, a: str) -> str:
    if not a:  # nothing to call them: drop the address and its comma
        for cut in (", {a}", "{a}, ", "{A}, ", " {a}"):
            template = template.replace(cut, "")
        return capitalize_first(template)
    return template.replace("{a}", a).replace("{A}", capitalize_first(a))


def _sentence(text: str) -> str:
    text = capitalize_first(text.strip())
    return text if text[-1:] in ".!?" else text + "."


def _pick(history: Sequence[Turn], text: str) -> int:
    """A stable choice among lines: same conversation, same reply; different turns vary."""
    digest = hashlib.blake2s(f"{len(history)}|{text}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")
