"""Which of the person's memories fit this turn: BM25 over word stems, widened by topic groups.

Lexical on purpose: it needs no model, indexes 2,000 memories in milliseconds and is exact about
names, which matter most here. Topic groups (`concepts.py`) let 'summer holidays' reach 'every
August'. Indexes are cached per memory list, so a call pays for indexing once.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import msgspec

from server.persona import concepts
from server.persona.text import content_stems, stem

K1 = 1.2
B = 0.75
RELATED_WEIGHT = 0.35  # a topic-group match counts for about a third of the word itself
# Words that say "this is about the past" but not which part of it.
QUERY_NOISE = frozenset(stem(w) for w in "remember recall memory memories think thought know tell told used".split())


MIN_RELEVANT_SCORE = 0.3  # BM25 score of a direct match that is more than a passing word


class Hit(msgspec.Struct, frozen=True):
    """A memory and how well it fits the turn (0 = not at all)."""

    index: int
    text: str
    score: float
    direct: bool  # at least one of the turn's own words is in the memory
    relevant: bool = False  # confidently about what the user said (not just the same topic)


class Retriever(Protocol):
    """Anything that ranks a sheet's memories for a turn (lexical here, semantic in semantic.py)."""

    def retrieve(
        self, memories: Sequence[str], query: str, *, limit: int = 3, exclude: Sequence[int] = ()
    ) -> list[Hit]: ...


class LexicalRetriever:
    """The default retriever: BM25 with topic groups (no model)."""

    def retrieve(
        self, memories: Sequence[str], query: str, *, limit: int = 3, exclude: Sequence[int] = ()
    ) -> list[Hit]:
        return retrieve(memories, query, limit=limit, exclude=exclude)


class MemoryIndex:
    """BM25 statistics of one sheet's memories."""

    def __init__(self, memories: Sequence[str]) -> None:
        self.memories = tuple(memories)
        self.docs = [Counter(content_stems(m)) for m in self.memories]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg_len = (sum(self.lengths) / len(self.lengths)) if self.lengths else 1.0
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1.0 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def _term_score(self, i: int, term: str) -> float:
        tf = self.docs[i].get(term, 0)
        if not tf:
            return 0.0
        norm = K1 * (1 - B + B * self.lengths[i] / max(self.avg_len, 1e-9))
        return self.idf[term] * tf * (K1 + 1) / (tf + norm)

    def search(self, query: str, *, limit: int = 3, exclude: Sequence[int] = ()) -> list[Hit]:
        """The best `limit` memories for `query`, best first, leaving out indexes in `exclude`."""
        terms = [t for t in dict.fromkeys(content_stems(query)) if t not in QUERY_NOISE]
        expanded: dict[str, float] = {}
        for t in terms:
            for r in concepts.related(t):
                if r not in terms:
                    expanded[r] = max(expanded.get(r, 0.0), RELATED_WEIGHT)
        hits = []
        for i in range(len(self.docs)):
            if i in exclude:
                continue
            direct = sum(self._term_score(i, t) for t in terms)
            widened = sum(w * self._term_score(i, t) for t, w in expanded.items())
            score = direct + widened
            if score > 0:
                relevant = direct >= MIN_RELEVANT_SCORE
                hits.append(Hit(i, self.memories[i], round(score, 4), direct > 0, relevant))
        hits.sort(key=lambda h: (-h.score, h.index))
        return hits[:limit]


@lru_cache(maxsize=64)
def index_for(memories: tuple[str, ...]) -> MemoryIndex:
    """The index of a memory list, built once per distinct list."""
    return MemoryIndex(memories)


def retrieve(memories: Sequence[str], query: str, *, limit: int = 3, exclude: Sequence[int] = ()) -> list[Hit]:
    """Memories that fit `query`, best first (cached index)."""
    return index_for(tuple(memories)).search(query, limit=limit, exclude=exclude)


LEXICAL = LexicalRetriever()
