"""Mouth shapes from phoneme timings: IPA (or plain letters) to visemes, blended with
coarticulation so neighbouring sounds shape each other and lip closures (m, b, p) always close.

Blending follows the dominance idea of Cohen and Massaro: each phoneme pulls the mouth towards its
target with a weight that peaks at its centre and decays with distance; lip closures pull hardest.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

from plugins.warp.mouth import MouthShape
from server.media import PhonemeTiming

# name: (open, jaw, spread, round, tongue, tuck, dominance)
VISEMES: dict[str, tuple[float, float, float, float, float, float, float]] = {
    "rest": (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.3),
    "AA": (0.30, 1.0, 0.05, 0.0, 0.0, 0.0, 1.0),
    "E": (0.20, 0.8, 0.30, 0.0, 0.1, 0.0, 1.0),
    "I": (0.10, 0.4, 0.65, 0.0, 0.2, 0.0, 1.0),
    "O": (0.22, 0.9, -0.1, 0.65, 0.0, 0.0, 1.0),
    "U": (0.08, 0.5, -0.2, 1.0, 0.0, 0.0, 1.2),
    "ER": (0.12, 0.6, 0.0, 0.45, 0.3, 0.0, 0.9),
    "MBP": (0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 6.0),
    "FV": (0.05, 0.2, 0.1, 0.0, 0.0, 1.0, 3.0),
    "TH": (0.09, 0.4, 0.1, 0.0, 0.9, 0.0, 1.5),
    "TDN": (0.10, 0.5, 0.1, 0.0, 1.0, 0.0, 0.8),
    "SZ": (0.06, 0.1, 0.35, 0.0, 0.5, 0.0, 1.5),
    "SH": (0.10, 0.3, -0.1, 0.6, 0.3, 0.0, 1.5),
    "KG": (0.14, 0.7, 0.05, 0.0, 0.0, 0.0, 0.6),
    "L": (0.14, 0.6, 0.1, 0.0, 1.0, 0.0, 0.8),
    "W": (0.05, 0.4, -0.3, 1.0, 0.0, 0.0, 2.0),
}

# IPA (espeak-ng/Piper) and plain letters (test voices) to viseme names; longest match wins.
SYMBOLS: dict[str, str] = {
    **dict.fromkeys(["a", "ɑ", "æ", "ʌ", "aɪ", "aʊ", "ɐ", "ɒ"], "AA"),
    **dict.fromkeys(["e", "ɛ", "eɪ", "ə", "ɜ", "ᵻ"], "E"),
    **dict.fromkeys(["i", "ɪ", "j", "y"], "I"),
    **dict.fromkeys(["o", "ɔ", "oʊ", "ɔɪ", "əʊ"], "O"),
    **dict.fromkeys(["u", "ʊ", "uː", "ɯ"], "U"),
    **dict.fromkeys(["ɚ", "ɝ", "r", "ɹ", "ɾ"], "ER"),
    **dict.fromkeys(["m", "b", "p"], "MBP"),
    **dict.fromkeys(["f", "v"], "FV"),
    **dict.fromkeys(["θ", "ð"], "TH"),
    **dict.fromkeys(["t", "d", "n", "c", "q"], "TDN"),
    **dict.fromkeys(["s", "z", "x"], "SZ"),
    **dict.fromkeys(["ʃ", "ʒ", "tʃ", "dʒ"], "SH"),
    **dict.fromkeys(["k", "g", "ɡ", "ŋ", "h", "ʔ"], "KG"),
    **dict.fromkeys(["l", "ɫ"], "L"),
    **dict.fromkeys(["w", "ʍ"], "W"),
}
LEAD_S = 0.05  # the mouth moves a little before the sound is heard
MARKS = "ˈˌːˑ'̩̯̃"


def viseme_of(phoneme: str) -> str:
    """The viseme for one phoneme symbol; unknown symbols read as a neutral consonant."""
    text = "".join(ch for ch in unicodedata.normalize("NFC", phoneme.lower()) if ch not in MARKS).strip()
    if not text or text in ("_", " ", "#"):
        return "rest"
    for size in (2, 1):
        if text[:size] in SYMBOLS:
            return SYMBOLS[text[:size]]
    return "KG"


def mouth_at(t: float, phonemes: Sequence[PhonemeTiming], lead: float = LEAD_S) -> MouthShape | None:
    """The blended mouth shape at utterance time t, or None when no phoneme is near."""
    total = 0.0
    acc = [0.0] * 6
    for p in phonemes:
        centre = (p.start + p.end) / 2 - lead
        half = max((p.end - p.start) / 2, 0.025)
        distance = abs(t - centre)
        if distance > half + 0.25:
            continue
        target = VISEMES[viseme_of(p.phoneme)]
        # Flat inside the phoneme, then an exponential decay: neighbours overlap a little. Strong
        # visemes (closures) decay faster, so they win at their centre without flattening the vowels.
        decay = 0.045 / math.sqrt(max(target[6], 1.0))
        weight = target[6] * math.exp(-max(0.0, distance - half * 0.6) / decay)
        total += weight
        for i in range(6):
            acc[i] += weight * target[i]
    if total <= 1e-6:
        return None
    rest = VISEMES["rest"]
    # Between words the rest shape takes over as the neighbours' weights fade.
    weight = rest[6] * 0.1
    total += weight
    for i in range(6):
        acc[i] += weight * rest[i]
    v = [a / total for a in acc]
    return MouthShape(open=v[0], jaw=v[1], spread=v[2], round=v[3], tongue=v[4], tuck=v[5])
