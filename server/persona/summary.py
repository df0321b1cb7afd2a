"""A rolling summary for long calls: the last turns verbatim, everything older condensed.

Extractive (no model): from each older user turn it keeps the sentence with the most content
words, trimmed, newest first until the budget is spent, so a prompt stays small however long
the call runs while the threads the user brought up are not forgotten.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from server.backends import Role, Turn
from server.persona.text import content_stems, split_sentences

KEEP_TURNS = 8
SUMMARY_CHARS = 700
SENTENCE_WORDS = 24


class Condensed(msgspec.Struct, frozen=True):
    """What a prompt gets of the history: a summary of the old part, the recent turns in full."""

    summary: str
    recent: tuple[Turn, ...]


def condense(history: Sequence[Turn], *, keep: int = KEEP_TURNS, budget: int = SUMMARY_CHARS) -> Condensed:
    """Split `history` into a summary of all but the last `keep` turns and those turns."""
    if len(history) <= keep:
        return Condensed("", tuple(history))
    old, recent = history[: len(history) - keep], tuple(history[len(history) - keep :])
    points: list[str] = []
    used = 0
    for turn in reversed(old):
        if turn.role is not Role.USER:
            continue
        point = _gist(turn.text)
        if not point or point in points:
            continue
        if used + len(point) + 2 > budget:
            break
        points.append(point)
        used += len(point) + 2
    points.reverse()
    summary = ("Earlier in this call the user said: " + "; ".join(points) + ".") if points else ""
    return Condensed(summary, recent)


def _gist(text: str) -> str:
    """The most informative sentence of `text`, at most SENTENCE_WORDS words, without end punctuation."""
    sentences = split_sentences(text) or [text]
    best = max(sentences, key=lambda s: len(content_stems(s)))
    cut = best.split()
    trimmed = " ".join(cut[:SENTENCE_WORDS]) + (" ..." if len(cut) > SENTENCE_WORDS else "")
    return trimmed.rstrip(".!?").strip()
