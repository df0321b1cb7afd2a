"""Words a user is likely to say in a call with this person, as a hint for speech recognition.

Whisper misspells names it has not heard before ("Tabestock" for Tavistock, "Margarit" for
Marguerite). Primed with the names and places in the avatar's sheet, it spells them the way the
user wrote them, and the persona's memory search then finds the memory they asked about.
"""

from __future__ import annotations

import re

from server.backends import PersonaSheet

MAX_NAMES = 30
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*")
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")
_NOT_NAMES = frozenset({"I", "I'm", "I'd", "I'll", "I've", "OK", "Okay", "Oh", "Ah", "Mr", "Mrs", "Ms", "Dr"})
# Words that often start a sentence and are not names (a capital there says nothing).
_STARTERS = frozenset(
    """a an the we you he she they it i my our your his her their its this that these those there
    then when while after before once every each one all some no not and but or so because if as
    at in on of to for from with by about after during until since yes well just always never
    sometimes often what who how why where which remember do did does was were is are be been had
    have has can could would should will may might must let please thank thanks dear""".split()
)


def speech_hint(sheet: PersonaSheet) -> str:
    """One plain sentence naming the people and places of the sheet ("" if it names none)."""
    names: list[str] = []

    def add(word: str) -> None:
        word = re.sub(r"['\u2019]s$", "", word).strip("'\u2019-")
        if word and word not in _NOT_NAMES and word not in names and len(names) < MAX_NAMES:
            names.append(word)

    for given in (sheet.name, sheet.user_name):
        for word in _WORD.findall(given):
            add(word)
    texts = (*sheet.memories, sheet.personality, sheet.speaking_style, *sheet.example_phrases)
    for text in texts:
        for sentence in _SENTENCE.split(text):
            words = _WORD.findall(sentence)
            for i, word in enumerate(words):
                if word[0].isupper() and (i > 0 or word.lower() not in _STARTERS):
                    add(word)
    if not names:
        return ""
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"We talk about {listed}."
