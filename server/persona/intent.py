"""What the user's last words are doing: greeting, sharing news, grieving, asking... (rules)."""

from __future__ import annotations

import enum
import re

from server.media import Emotion
from server.persona import care, emotion

GREETING_RE = re.compile(r"^\W*(hi|hello|hey|hiya|good (morning|afternoon|evening)|it'?s me)\b", re.IGNORECASE)
PRESENCE_RE = re.compile(r"\b(can you hear me|are you there|you there\?|is that you)\b", re.IGNORECASE)
FAREWELL_RE = re.compile(
    r"\b(good ?bye|bye for now|bye|good ?night|i have to go|i'?ve got to go|talk (to you )?soon)\b", re.IGNORECASE
)
REMEMBER_RE = re.compile(
    r"\b(do|did|can|could) you (still )?(remember|recall)\b|\bremember (when|the|our|how|that)\b", re.IGNORECASE
)
STORY_RE = re.compile(r"\b(tell me (a story|something|about)|talk to me about|what do you remember)\b", re.IGNORECASE)
FACT_QUESTION_RE = re.compile(
    r"^\W*(what|where|when|who|whom|which|how (old|many|much|long)|what's|where's|who's)\b|"
    r"\b(what|where|when|who|which) (was|were|is|did)\b|\bwhat.{0,20}\bname\b",
    re.IGNORECASE,
)
ADVICE_RE = re.compile(
    r"\b(what should i|should i|what would you do|what do i do|any advice|help me decide)\b", re.IGNORECASE
)
GRIEF_QUESTION_RE = re.compile(
    r"\bwhy did you (have to )?(leave|go|die)\b|\bwhy did (this|it) (have to )?happen\b", re.IGNORECASE
)
LOVE_RE = re.compile(r"^\W*(i love you|love you)\b", re.IGNORECASE)
MISS_RE = re.compile(r"\b(miss(ing)? you|wish you were (here|still)|without you)\b", re.IGNORECASE)
# Yes/no questions about how the person feels about the user: they deserve a clear answer.
REASSURE_YES_RE = re.compile(
    r"\b(are|were) you (proud|happy|ok|okay|alright|all right|at peace)\b|"
    r"\b(do|did) you (still )?(love|forgive|miss|like) me\b|\bdid you know (that |how much )?i\b",
    re.IGNORECASE,
)
REASSURE_NO_RE = re.compile(
    r"\b(are|were) you (angry|mad|upset|disappointed|cross)\b|\b(do|did) you (blame|hate|resent) me\b|"
    r"\b(my fault|i feel (so )?guilty|i should have|i wasn'?t there|i'?m (so )?sorry)\b",
    re.IGNORECASE,
)


class Intent(enum.StrEnum):
    CRISIS = "crisis"
    ASKS_IF_REAL = "asks_if_real"
    REASSURE_YES = "reassure_yes"
    REASSURE_NO = "reassure_no"
    GREETING = "greeting"
    FAREWELL = "farewell"
    LOVE = "love"
    GOOD_NEWS = "good_news"
    MISSING = "missing"
    SAD = "sad"
    REMEMBER = "remember"
    STORY = "story"
    ADVICE = "advice"
    QUESTION = "question"
    STATEMENT = "statement"


def intent_of(text: str, *, name: str = "") -> Intent:
    """The one intent a reply should answer first (checked from the most to the least urgent)."""
    if care.detect_crisis(text):
        return Intent.CRISIS
    if care.asks_if_real(text, name):
        return Intent.ASKS_IF_REAL
    if REASSURE_NO_RE.search(text):
        return Intent.REASSURE_NO
    if REASSURE_YES_RE.search(text):
        return Intent.REASSURE_YES
    if REMEMBER_RE.search(text):
        return Intent.REMEMBER
    if STORY_RE.search(text):
        return Intent.STORY
    feeling = emotion.classify(text)
    if emotion.GOOD_NEWS_RE.search(text) and feeling is not Emotion.SAD:
        return Intent.GOOD_NEWS
    if LOVE_RE.search(text):
        return Intent.LOVE
    if MISS_RE.search(text):
        return Intent.MISSING
    if GRIEF_QUESTION_RE.search(text) or feeling is Emotion.SAD or emotion.polarity(text) <= -0.1:
        return Intent.SAD
    if ADVICE_RE.search(text):
        return Intent.ADVICE
    if "?" in text and FACT_QUESTION_RE.search(text):
        return Intent.QUESTION
    if FAREWELL_RE.search(text) and len(text.split()) <= 8:
        return Intent.FAREWELL
    if (GREETING_RE.search(text) and len(text.split()) <= 6) or PRESENCE_RE.search(text):
        return Intent.GREETING
    if feeling is Emotion.HAPPY and "!" in text:
        return Intent.GOOD_NEWS
    return Intent.STATEMENT
