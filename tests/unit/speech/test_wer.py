from __future__ import annotations

import pytest

from server.speech.wer import normalize, number_words, wer


def test_digits_are_read_as_words() -> None:
    assert normalize("10 of clubs.") == ["ten", "of", "clubs"]
    assert number_words(42) == "forty two"
    assert number_words(1905) == "one thousand nine hundred five"


def test_wer_counts_substitutions_insertions_deletions() -> None:
    assert wer(["ten of clubs"], ["10 of Clubs!"]) == 0.0
    assert wer(["four queen of clubs"], ["4 Queen of Cloves"]) == pytest.approx(0.25)
    assert wer(["a b c d"], ["a c d e f"]) == pytest.approx(3 / 4)  # b deleted, e f inserted


def test_wer_is_over_the_whole_corpus() -> None:
    assert wer(["one two", "three four five six"], ["one two", "three four"]) == pytest.approx(2 / 6)
