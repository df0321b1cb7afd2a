"""Small text helpers the persona modules share: words, stems, sentences, whole-word search."""

from __future__ import annotations

import re
from collections.abc import Iterable

WORD_RE = re.compile(r"[A-Za-z\u00C0-\u024F]+(?:'[A-Za-z]+)?")
# A sentence ends at . ! ? (or an ellipsis) followed by space or the end; quotes may trail.
SENTENCE_END_RE = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)]*\s+")

STOPWORDS = frozenset(
    """a an the and or but if so of to in on at by for with from into onto about as is are was were be been
    being am do does did done have has had having i me my mine myself you your yours yourself we us our
    ours he him his she her hers it its they them their theirs this that these those there here what
    which who whom whose when where why how all any both each few more most other some such no nor not
    only own same than too very can will just would could should might must shall may also ever still
    really oh yes yeah ok okay hi hello hey well then now today again up down out over under re ve ll s
    t d m don't didn't isn't wasn't can't won't i'm you're it's that's i've we're we've i'd you'd let's
    every day days time times thing things one like lot get got want need much go going""".split()
)
# Common irregular past forms, so "where did you grow up" finds "she grew up in Naples".
IRREGULAR = dict(
    pair.split(":")
    for pair in """grew:grow took:take went:go ate:eat made:make taught:teach built:build bought:buy brought:bring
    sang:sing swam:swim ran:run drove:drive wrote:write rode:ride gave:give met:meet left:leave kept:keep
    slept:sleep felt:feel told:tell sold:sell found:find caught:catch thought:think fell:fall flew:fly knew:know
    won:win spoke:speak began:begin saw:see came:come became:become held:hold stood:stand lost:lose paid:pay
    said:say wore:wear sat:sit lay:lie hung:hang dug:dig fed:feed fought:fight led:lead sent:send spent:spend
    taken:take given:give eaten:eat written:write driven:drive ridden:ride grown:grow known:know seen:see
    children:child men:man women:woman feet:foot teeth:tooth mice:mouse geese:goose""".split()
)


def words(text: str) -> list[str]:
    """The words of `text`, as written (apostrophes kept inside words)."""
    return WORD_RE.findall(text)


def stem(word: str) -> str:
    """A crude English stem, enough to match 'walked'/'walking'/'walks' and 'holidays'/'holiday'."""
    w = word.lower().replace("\u2019", "'")
    w = w.removesuffix("'s")
    if w in IRREGULAR:
        return IRREGULAR[w]
    for suffix, keep in (
        ("iest", "y"),
        ("ier", "y"),
        ("ies", "y"),
        ("ied", "y"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            base = w[: len(w) - len(suffix)] + keep
            if suffix in ("ing", "ed") and len(base) > 3 and base[-1] == base[-2]:
                base = base[:-1]  # planned -> plan, running -> run
            if suffix == "es" and not base.endswith(("sh", "ch", "x", "s", "z", "o")):
                base = w[:-1]  # plates -> plate, not plat
            return _f_plural(base)
    return _f_plural(w)


def _f_plural(base: str) -> str:
    """scarf/scarves, shelf/shelves, wolf/wolves (and serve/serves alike) meet at one stem."""
    for tail in ("rve", "lve", "rv", "lv"):
        if base.endswith(tail) and len(base) > 3:
            return base[: len(base) - len(tail)] + tail[0] + "f"
    return base


def content_stems(text: str) -> list[str]:
    """Stems of the words in `text` that carry meaning (no stop words)."""
    return [stem(w) for w in words(text) if w.lower() not in STOPWORDS and len(w) > 1]


def split_sentences(text: str) -> list[str]:
    """Split finished text into sentences, keeping their punctuation."""
    parts = SENTENCE_END_RE.split(text.strip())
    return [p.strip() for p in parts if p.strip()]


def pop_sentences(buffer: str) -> tuple[list[str], str]:
    """Complete sentences at the start of a streaming buffer, and the unfinished rest."""
    done: list[str] = []
    pos = 0
    for match in SENTENCE_END_RE.finditer(buffer):
        piece = buffer[pos : match.start()].strip()
        if piece:
            done.append(piece)
        pos = match.end()
    return done, buffer[pos:]


def phrase_re(phrases: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive pattern matching any phrase as whole words."""
    alternatives = sorted({re.escape(p.strip()) for p in phrases if p.strip()}, key=len, reverse=True)
    if not alternatives:
        return re.compile(r"(?!x)x")
    return re.compile(r"(?<![\w'])(?:" + "|".join(alternatives) + r")(?![\w'])", re.IGNORECASE)


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether `phrase` occurs in `text` as whole words, ignoring case."""
    return bool(phrase_re([phrase]).search(text))


TITLES = frozenset("dr mr mrs ms miss prof sir dame rev father sister".split())


def first_name(name: str) -> str:
    """The first word of a name, titles skipped ('Dr. Ahmed Khan' -> 'Ahmed')."""
    parts = [p for p in name.split() if p.lower().rstrip(".") not in TITLES]
    return parts[0] if parts else name.strip()


def capitalize_first(text: str) -> str:
    """Upper-case the first letter only (str.capitalize would lower the rest)."""
    return text[:1].upper() + text[1:] if text else text
