"""Cuts the persona's streamed text into sentences so the first one is spoken while the rest is written."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (or an ellipsis) followed by white space; quotes may close it.
_END = re.compile(r"[.!?…]+[\"')\]]*\s+")
ABBREVIATIONS = ("mr.", "mrs.", "ms.", "dr.", "st.", "e.g.", "i.e.", "etc.")


class SentenceCutter:
    """Feed text pieces; get back every sentence completed so far, then `flush()` the rest.

    Very long sentences are also cut at a comma so the voice does not wait for the end of a
    rambling reply.
    """

    def __init__(self, *, min_chars: int = 8, max_chars: int = 160) -> None:
        self.min_chars = min_chars
        self.max_chars = max_chars
        self.buffer = ""

    def feed(self, text: str) -> list[str]:
        self.buffer += text
        out: list[str] = []
        start = 0
        for match in _END.finditer(self.buffer):
            candidate = self.buffer[start : match.end()].strip()
            if len(candidate) < self.min_chars or candidate.lower().endswith(ABBREVIATIONS):
                continue
            out.append(candidate)
            start = match.end()
        self.buffer = self.buffer[start:]
        if len(self.buffer) > self.max_chars:
            comma = self.buffer.rfind(", ", 0, self.max_chars)
            if comma > self.min_chars:
                out.append(self.buffer[: comma + 1].strip())
                self.buffer = self.buffer[comma + 2 :]
        return out

    def flush(self) -> str | None:
        rest, self.buffer = self.buffer.strip(), ""
        return rest or None
