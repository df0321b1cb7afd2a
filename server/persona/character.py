"""What a sheet says about how the person talks, read once per sheet: what they called the user,
their catchphrases, how many words they use, and their memories retold in their own voice."""

from __future__ import annotations

import re
from functools import lru_cache

import msgspec

from server.backends import PersonaSheet
from server.persona.perspective import pronoun_of, retell
from server.persona.text import first_name, split_sentences

QUOTED_RE = re.compile(r"(?:^|(?<=[\s(,;:]))[\"'\u2018\u201c]([^\"\u2019\u201d]{2,40}?)[\"'\u2019\u201d](?![A-Za-z])")
# Words in a personality or speaking style that mean "says little".
TERSE_RE = re.compile(r"\b(quiet|few words|terse|man of few|woman of few|reserved|shy|laconic)\b", re.IGNORECASE)
PLAYFUL_RE = re.compile(r"\b(teas(e|ing)|joker|jokes|cheeky|playful|funny|laughs)\b", re.IGNORECASE)
MAX_MEMORY_WORDS = 40
INTERJECTIONS = {"oh", "ah", "aw", "aww", "och", "ooh", "well", "now", "hey", "hello", "hi", "my", "o"}


class Character(msgspec.Struct, frozen=True):
    """The sheet, digested for composing replies."""

    name: str
    user: str  # the user's first name, or "" if the sheet does not give it
    pronoun: str  # "she", "he" or ""
    pet_names: tuple[str, ...]  # short quoted terms of address: 'love', 'kiddo'
    catchphrases: tuple[str, ...]  # longer quoted phrases and example phrases
    terse: bool
    playful: bool
    retold: tuple[str, ...]  # memories in the person's voice, same order as sheet.memories

    def address(self, pick: int) -> str:
        """How to address the user this time: a pet name or their name, varied by `pick`."""
        options = [*self.pet_names, self.user] if self.user else list(self.pet_names)
        return options[pick % len(options)] if options else ""


def _quoted(text: str) -> list[str]:
    return [q.strip() for q in QUOTED_RE.findall(text) if q.strip()]


def _pet_name(quoted: str) -> str:
    """The term of address in a short quoted phrase: 'love' in 'Oh, love' or 'ah pet' (an
    exclamation before it is how they said it, not what they called you); "" if there is none."""
    words = quoted.strip(" .!?,;:").split()
    while words and words[0].strip(",.!").lower() in INTERJECTIONS:
        words = words[1:]
    return " ".join(words).strip(" ,.!?;:")


def _shorten(memory: str) -> str:
    """At most MAX_MEMORY_WORDS words, cut at a sentence end where possible."""
    if len(memory.split()) <= MAX_MEMORY_WORDS:
        return memory
    kept: list[str] = []
    for sentence in split_sentences(memory):
        if kept and len(" ".join([*kept, sentence]).split()) > MAX_MEMORY_WORDS:
            break
        kept.append(sentence)
    return " ".join(kept)


@lru_cache(maxsize=64)
def character_of(sheet: PersonaSheet) -> Character:
    """Digest `sheet` (cached: a call reuses one sheet for every turn)."""
    quoted = _quoted(sheet.speaking_style) + _quoted(sheet.personality)
    short = [q for q in quoted if len(q.split()) <= 2]
    pets = (_pet_name(q) for q in short)
    pet = tuple(dict.fromkeys(p for p in pets if p and p.lower() != sheet.user_name.lower()))
    # 'Oh, love' is also how they spoke: kept as a phrase of theirs, never pasted in as a name
    spoken = [q for q in quoted if len(q.split()) > 2 or _pet_name(q) != q.strip(" .!?,;:")]
    phrases = tuple(dict.fromkeys(spoken + list(sheet.example_phrases)))
    pronoun = pronoun_of(sheet.relationship, sheet.memories)
    retold = tuple(
        retell(
            _shorten(m), name=sheet.name, relationship=sheet.relationship, user_name=sheet.user_name, pronoun=pronoun
        )
        for m in sheet.memories
    )
    style = f"{sheet.personality} {sheet.speaking_style}"
    return Character(
        name=first_name(sheet.name),
        user=first_name(sheet.user_name),
        pronoun=pronoun,
        pet_names=pet,
        catchphrases=phrases,
        terse=bool(TERSE_RE.search(style)),
        playful=bool(PLAYFUL_RE.search(style)),
        retold=retold,
    )
