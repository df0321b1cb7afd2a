"""Phonemes to mouth shapes: symbols map to the right viseme, closures close, neighbours blend."""

from __future__ import annotations

import pytest

from plugins.warp.visemes import LEAD_S, mouth_at, viseme_of
from server.media import PhonemeTiming


@pytest.mark.parametrize(
    ("symbol", "viseme"),
    [("m", "MBP"), ("b", "MBP"), ("ˈaɪ", "AA"), ("oʊ", "O"), ("uː", "U"), ("θ", "TH"), ("ʃ", "SH"), ("f", "FV"),
     ("ɹ", "ER"), ("l", "L"), ("w", "W"), ("s", "SZ"), ("ə", "E"), ("_", "rest"), ("", "rest"), ("¿", "KG"), ("O", "O")],
)  # fmt: skip
def test_symbols_map_to_visemes(symbol: str, viseme: str) -> None:
    assert viseme_of(symbol) == viseme


def seq(*names: str, start: float = 0.0, length: float = 0.12) -> list[PhonemeTiming]:
    return [PhonemeTiming(n, start + i * length, start + (i + 1) * length) for i, n in enumerate(names)]


def centre(p: PhonemeTiming) -> float:
    return (p.start + p.end) / 2 - LEAD_S


def test_lips_close_on_m_between_open_vowels() -> None:
    ph = seq("ɑ", "m", "ɑ")
    m, a = mouth_at(centre(ph[1]), ph), mouth_at(centre(ph[0]), ph)
    assert m is not None and a is not None
    assert m.open < 0.03
    assert a.open > 0.2


def test_far_from_any_phoneme_there_is_no_shape() -> None:
    assert mouth_at(5.0, seq("ɑ", "m")) is None


def test_rounding_of_u_reaches_into_the_s_before_it() -> None:
    before_u, before_i = seq("s", "uː"), seq("s", "i")
    s_u = mouth_at(centre(before_u[0]) + 0.03, before_u)
    s_i = mouth_at(centre(before_i[0]) + 0.03, before_i)
    assert s_u is not None and s_i is not None
    assert s_u.round > s_i.round + 0.1
    assert s_i.spread > s_u.spread
