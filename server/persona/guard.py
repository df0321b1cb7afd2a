"""The guard every persona backend's reply passes through before anyone hears it.

It cuts the stream into sentences, drops any sentence that breaks character, invents a name,
place or relation, or claims the person is alive or waiting somewhere; labels each kept sentence
with an emotion; keeps the reply to three sentences; makes sure a user in crisis hears where help
is and a user who sincerely asks hears that this is an AI. If nothing survives, it regenerates
once and then falls back to the grounded reply, which is built from the sheet alone.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from typing import Any

from server.backends import PersonaSheet, Turn
from server.media import Emotion, TextDelta
from server.persona import care, checks, compose, emotion, retrieval
from server.persona.intent import Intent, intent_of
from server.persona.text import first_name, pop_sentences, split_sentences

log = logging.getLogger(__name__)
MAX_SENTENCES = 3
SENTENCE_END = ".!?\u2026\"'\u201d"
MIN_TAIL_WORDS = 4  # an unfinished reply shorter than this is a fragment, not an answer
HEDGE_RE = re.compile(
    r"\b(can'?t|cannot|don'?t|do not) (quite )?(remember|recall)|\bnot sure\b|\bforg[eo]t|\bhazy\b", re.IGNORECASE
)
AI_SAID_RE = re.compile(r"\b(an? )?(ai|a\.i\.|artificial intelligence)\b", re.IGNORECASE)
Regenerate = Callable[[], AsyncIterator[TextDelta]]


async def guarded(
    backend_stream: AsyncIterator[TextDelta],
    sheet: PersonaSheet,
    history: Sequence[Turn],
    *,
    regenerate: Regenerate | None = None,
    country: str | None = None,
    crisis_lines: Mapping[str, Any] | None = None,
    retriever: retrieval.Retriever | None = None,
) -> AsyncIterator[TextDelta]:
    """Stream `backend_stream` checked sentence by sentence (see the module docstring)."""
    intent, allowed, unknown, grounded = await asyncio.to_thread(
        _prepare, history, sheet, country, crisis_lines, retriever or retrieval.LEXICAL
    )
    limit = MAX_SENTENCES + (intent is Intent.ASKS_IF_REAL)  # the disclosure does not count
    spoken: list[str] = []

    if intent is Intent.ASKS_IF_REAL:  # the truth first, whatever the model says after it
        spoken.append(grounded[0].text)
        yield _delta(grounded[0].text, grounded[0].emotion, first=True)
    if intent is Intent.CRISIS:
        # A life may be at stake: say the tested care lines, never a small model's improvisation.
        for s in grounded:
            spoken.append(s.text)
            yield _delta(s.text, s.emotion, first=len(spoken) == 1)
        await _close(backend_stream)
        return

    streams: list[AsyncIterator[TextDelta]] = [backend_stream]
    attempt = 0
    while attempt < len(streams) and len(spoken) < limit:
        async with aclosing(_checked(streams[attempt], sheet, allowed, intent, unknown)) as sentences:
            async for sentence, feeling in sentences:
                spoken.append(sentence)
                yield _delta(sentence, feeling, first=len(spoken) == 1)
                if len(spoken) >= limit:
                    break
        if not spoken and regenerate is not None and attempt == 0:
            log.info("persona guard: nothing usable in the reply, regenerating")
            streams.append(regenerate())
        attempt += 1

    if not spoken:
        log.info("persona guard: falling back to the grounded reply")
        for s in grounded:
            spoken.append(s.text)
            yield _delta(s.text, s.emotion, first=len(spoken) == 1)


def _prepare(
    history: Sequence[Turn],
    sheet: PersonaSheet,
    country: str | None,
    crisis_lines: Mapping[str, Any] | None,
    finder: retrieval.Retriever,
) -> tuple[Intent, frozenset[str], bool, list[compose.Sentence]]:
    """What the checks need (off the event loop: retrieval may run a model)."""
    user_text = care.last_user_text(history)
    intent = intent_of(user_text, name=first_name(sheet.name))
    # A question none of the memories answers: the model may only say it does not remember.
    unknown = intent is Intent.QUESTION and not any(h.relevant for h in finder.retrieve(sheet.memories, user_text))
    grounded = compose.compose(history, sheet, country=country, crisis_lines=crisis_lines, retriever=finder)
    return intent, checks.allowed_words(sheet, history), unknown, grounded


async def _checked(
    stream: AsyncIterator[TextDelta], sheet: PersonaSheet, allowed: frozenset[str], intent: Intent, unknown: bool
) -> AsyncGenerator[tuple[str, Emotion]]:
    """Finished sentences of `stream` that pass every check, with their feeling."""
    buffer = ""
    feeling: Emotion | None = None
    spoken_any = False
    try:
        async for delta in stream:
            if delta.emotion is not None and buffer.rstrip()[-1:] in SENTENCE_END:
                # A labelled sentence is finished: its feeling must not be taken by the next one's.
                done, buffer = split_sentences(buffer), delta.text
                next_feeling: Emotion | None = delta.emotion
            else:
                done, buffer = pop_sentences(buffer + delta.text)
                feeling = feeling or delta.emotion
                next_feeling = None if done else feeling
            for sentence in done:
                if _ok(sentence, sheet, allowed, intent, unknown):
                    spoken_any = True
                    yield sentence, feeling or emotion.classify(sentence)
            feeling = next_feeling
        tail = buffer.strip()
        # A reply cut off by the token limit ends mid-sentence: say it only if it is all there is.
        cut_off = tail[-1:] not in SENTENCE_END and (spoken_any or len(tail.split()) < MIN_TAIL_WORDS)
        if tail and not cut_off and _ok(tail, sheet, allowed, intent, unknown):
            yield tail, feeling or emotion.classify(tail)
    finally:
        await _close(stream)


async def _close(stream: AsyncIterator[TextDelta]) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        await closer()


def _ok(sentence: str, sheet: PersonaSheet, allowed: frozenset[str], intent: Intent, unknown: bool) -> bool:
    why = checks.problem(sentence, sheet=sheet, allowed=allowed, disclose_ai=False)
    if (
        why is None
        and unknown
        and checks.unsupported_details(
            sentence, allowed | compose.TEMPLATE_WORDS, limit=2 if HEDGE_RE.search(sentence) else 0
        )
    ):
        why = "answers a question no memory answers"
    if why is None and intent is Intent.ASKS_IF_REAL and AI_SAID_RE.search(sentence):
        why = "repeats the disclosure"
    if why is not None:
        log.info("persona guard dropped %r: %s", sentence, why)
        return False
    return True


def _delta(text: str, feeling: Emotion, *, first: bool) -> TextDelta:
    return TextDelta(text if first else " " + text, emotion=feeling)
