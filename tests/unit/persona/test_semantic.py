"""Semantic retrieval (the `embeddings` extra): meaning finds memories that share no word."""

from __future__ import annotations

import pytest

from server.errors import ConfigError
from server.persona import retrieval
from server.persona.semantic import SemanticRetriever, make_retriever

MEMORIES = (
    "Jo and Kim travelled across Portugal by train in 2010.",
    "Jo always ordered the spiciest curry on the menu and regretted it.",
    "Jo painted Kim's kitchen bright orange without asking.",
    "Jo could never keep a houseplant alive.",
)

needs_model = pytest.mark.skipif(not SemanticRetriever.available(), reason="needs the embeddings extra")


def test_config_chooses_the_retriever() -> None:
    assert make_retriever(None) is retrieval.LEXICAL
    assert make_retriever("lexical") is retrieval.LEXICAL
    with pytest.raises(ConfigError):
        make_retriever("telepathy")


@pytest.fixture(scope="module")
def semantic() -> SemanticRetriever:
    retriever = make_retriever("semantic")
    assert isinstance(retriever, SemanticRetriever)
    retriever.load()
    return retriever


@needs_model
@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "want"),
    [("I had a hot vindaloo tonight", 1), ("I finally repainted the kitchen", 2)],
)
def test_meaning_finds_what_words_miss(semantic: SemanticRetriever, query: str, want: int) -> None:
    hits = semantic.retrieve(MEMORIES, query)
    assert hits[0].index == want and hits[0].relevant


@needs_model
@pytest.mark.slow
def test_a_weak_match_ranks_first_but_is_not_claimed_as_certain(semantic: SemanticRetriever) -> None:
    hits = semantic.retrieve(MEMORIES, "My cactus died")
    assert hits[0].index == 3 and not hits[0].relevant


@needs_model
@pytest.mark.slow
def test_small_talk_is_not_confidently_about_any_memory(semantic: SemanticRetriever) -> None:
    for query in ("Hello!", "Work was awful today.", "What was the name of your first dog?"):
        assert not any(h.relevant for h in semantic.retrieve(MEMORIES, query)), query
    assert semantic.retrieve(MEMORIES, "x", exclude=range(4)) == []
