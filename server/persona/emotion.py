"""The feeling of a sentence (the avatar's, for the animator; the user's, for the persona).

VADER gives the polarity; a few rules add what it cannot see: good news it scores as neutral
("I got the job!"), grief words, surprise and thoughtfulness.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from server.media import Emotion

SURPRISE_RE = re.compile(
    r"\b(wow|whoa|goodness|gosh|no way|can'?t believe|really\?|what a surprise|oh my|my word|blimey|fancy that)\b",
    re.IGNORECASE,
)
THOUGHTFUL_RE = re.compile(
    r"\b(i wonder|wonder|remember|hmm+|i think|thinking|perhaps|maybe|i suppose|let me think|memory|"
    r"used to|back then|those days)\b",
    re.IGNORECASE,
)
GOOD_NEWS_RE = re.compile(
    r"\b(got the job|got a job|new job|got in|got into|made it|passed|promoted|promotion|engaged|pregnant|expecting|"
    r"graduated|won|i did it|we did it|got married|getting married|born|accepted|good news|had a baby|"
    r"baby (girl|boy)|bought a house|new house|first (day|steps|word))\b",
    re.IGNORECASE,
)
GRIEF_RE = re.compile(
    r"\b(miss(ed|ing)?|lonely|alone|lost|gone|cry(ing)?|cried|tears|sad|hurts?|grief|grieving|funeral|"
    r"without you|wish you were)\b",
    re.IGNORECASE,
)
HAPPY_THRESHOLD = 0.3
SAD_THRESHOLD = -0.25


@cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def polarity(text: str) -> float:
    """VADER's compound score in [-1, 1]."""
    return float(_analyzer().polarity_scores(text)["compound"])


def classify(text: str) -> Emotion:
    """One of neutral, happy, sad, surprised, thoughtful for `text`."""
    if not text.strip():
        return Emotion.NEUTRAL
    score = polarity(text)
    grief = bool(GRIEF_RE.search(text))
    if SURPRISE_RE.search(text) and score > SAD_THRESHOLD:
        return Emotion.SURPRISED
    if GOOD_NEWS_RE.search(text) and not grief:
        return Emotion.HAPPY
    if grief and score < HAPPY_THRESHOLD:
        return Emotion.SAD
    if score <= SAD_THRESHOLD:
        return Emotion.SAD
    if score >= HAPPY_THRESHOLD:
        return Emotion.HAPPY
    if THOUGHTFUL_RE.search(text) or text.rstrip().endswith("?"):
        return Emotion.THOUGHTFUL
    return Emotion.NEUTRAL
