"""Cutting text into the pieces Piper speaks one at a time, so the first audio comes out fast."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?;:])[\"')\]]*\s+")
_CLAUSE = re.compile(r"(?<=[,;:\u2014])\s+")


def sentences(text: str) -> list[str]:
    """Split at sentence ends; keeps the punctuation (Piper's prosody uses it)."""
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]


def pieces(text: str, *, first_max_words: int = 10) -> list[str]:
    """Sentences, with a long first sentence cut at its first clause boundary.

    The first piece decides when the user first hears the avatar, so it is kept short when a
    natural pause (comma, semicolon, dash) allows; later sentences stay whole for prosody.
    """
    out = sentences(text)
    if not out:
        return []
    first = out[0]
    if len(first.split()) > first_max_words:
        clauses = _CLAUSE.split(first, maxsplit=1)
        if len(clauses) == 2 and 2 <= len(clauses[0].split()) <= first_max_words:
            return [clauses[0], clauses[1], *out[1:]]
    return out
