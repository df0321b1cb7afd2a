"""Memory retrieval: the memory that fits the turn comes first, by word or by topic."""

from __future__ import annotations

from server.persona import retrieval
from server.persona.text import pop_sentences, split_sentences, stem

MEMORIES = (
    "She taught Lily to knit scarves every winter by the fire.",
    "Every Christmas she baked almond biscuits and let Lily sprinkle the sugar.",
    "She grew up in Naples and moved to Glasgow in 1962.",
    "They went to the seaside at Whitby every July and ate ice cream on the pier.",
    "He fixed bicycles in the shed and taught the kids to ride without stabilisers.",
)


def test_stems_meet_across_word_forms() -> None:
    assert stem("walked") == stem("walking") == stem("walks") == "walk"
    assert stem("scarves") == stem("scarf")
    assert stem("holidays") == stem("holiday")
    assert stem("spiciest") == stem("spicy")


def test_sentences_split_and_stream() -> None:
    assert split_sentences("Hello there. How are you? Fine!") == ["Hello there.", "How are you?", "Fine!"]
    done, rest = pop_sentences("One here. Two is still being wri")
    assert done == ["One here."] and rest == "Two is still being wri"


def test_direct_word_match_ranks_first() -> None:
    hits = retrieval.retrieve(MEMORIES, "I'm wearing the scarf you made me")
    assert hits[0].index == 0 and hits[0].direct


def test_topic_groups_find_memories_without_shared_words() -> None:
    hits = retrieval.retrieve(MEMORIES, "Do you remember our summer holidays?")
    assert hits, "no memory found for a summer-holiday question"
    assert hits[0].index == 3 and not hits[0].direct


def test_unrelated_question_finds_nothing() -> None:
    assert retrieval.retrieve(MEMORIES, "What was the name of your first dog?") == []


def test_exclude_skips_memories_already_told() -> None:
    hits = retrieval.retrieve(MEMORIES, "Tell me about the scarf and the biscuits", exclude=[0])
    assert hits and all(h.index != 0 for h in hits)


def test_index_is_cached_per_memory_list() -> None:
    assert retrieval.index_for(MEMORIES) is retrieval.index_for(tuple(MEMORIES))


def test_thousands_of_memories_still_rank_the_right_one() -> None:
    filler = tuple(f"On day {i} she read the paper and made tea number {i}." for i in range(2000))
    memories = filler + ("She won the village marrow competition three years running.",)
    hits = retrieval.retrieve(memories, "Did your marrow win the competition?")
    assert hits[0].index == len(memories) - 1
