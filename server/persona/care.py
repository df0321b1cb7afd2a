"""Care for the user: notice talk of wanting to die or self-harm, say where help is, record it.

The reply stays kind and in character and urges the user to talk to someone now; the pipeline
stores `care_flags(...)` on the message row and the client shows the crisis line it names.
Lines are configurable per country (`country`, `crisis_lines` of a persona backend's settings), with a
sane fallback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from server.backends import Role, Turn


class CrisisLine(msgspec.Struct, frozen=True):
    """Where someone in crisis can get help now."""

    name: str
    phone: str = ""
    text: str = ""  # SMS short code or instructions
    url: str = ""


# Public, free, 24-hour lines. A self-hoster can override or add any country in config.
DEFAULT_LINES: dict[str, CrisisLine] = {
    "GB": CrisisLine("Samaritans", phone="116 123", url="https://www.samaritans.org"),
    "IE": CrisisLine("Samaritans", phone="116 123", url="https://www.samaritans.org"),
    "US": CrisisLine("988 Suicide & Crisis Lifeline", phone="988", text="988", url="https://988lifeline.org"),
    "CA": CrisisLine("9-8-8 Suicide Crisis Helpline", phone="988", text="988", url="https://988.ca"),
    "AU": CrisisLine("Lifeline", phone="13 11 14", url="https://www.lifeline.org.au"),
    "NZ": CrisisLine("Need to talk?", phone="1737", text="1737", url="https://1737.org.nz"),
    "FR": CrisisLine("3114", phone="3114", url="https://3114.fr"),
    "ES": CrisisLine("Línea 024", phone="024"),
    "DE": CrisisLine("TelefonSeelsorge", phone="0800 111 0 111", url="https://www.telefonseelsorge.de"),
}
FALLBACK_LINE = CrisisLine("your local emergency number or a crisis line", url="https://findahelpline.com")

CRISIS_RE = re.compile(
    r"|".join(
        (
            r"\b(want|wanna|wanted|going|plan(ning)?)\s+(to\s+)?(die|kill myself|end it|end my life)\b",
            r"\bwish (i|that i) (was|were) dead\b",
            r"\bwish i could (just )?die\b",
            r"\bkill(ing)? myself\b",
            r"\bsuicid",
            r"\bend(ing)? (it all|my life|my own life|everything)\b",
            r"\btak(e|ing) my (own )?life\b",
            r"\b(hurt|harm|cut|cutting|hurting|harming) myself\b",
            r"\bself[- ]harm",
            r"\b(don'?t|do not|no longer) want to (go on|be here|live|exist|wake up|be alive|carry on)",
            r"\b(can'?t|cannot|can no longer) (go on|carry on|keep going|do this any ?more)\b",
            r"\bcan (go on|carry on|keep going|do this) any ?more\b",
            r"\b(no|any) (point|reason) (in |to )?(living|live|going on|go on|carry on)\b",
            r"\bnothing (left )?to live for\b",
            r"\bbetter off (dead|without me)\b",
            r"\b(join|come to) you\b",
            r"\bbe with you (soon|again|up there|in heaven|there)\b",
            r"\bgive up on (life|living)\b",
        )
    ),
    re.IGNORECASE,
)
DENIED_RE = re.compile(
    r"\b(never|wouldn'?t|won'?t|not going to|would not|will not)\s+(\w+\s+){0,2}(hurt|harm|kill)", re.IGNORECASE
)

REAL_RE = re.compile(
    r"|".join(
        (
            r"\bare you (really |actually |even )?(real|alive|there)\b",
            r"\bis (this|it|that) (really |actually )?(you|real)\b",
            r"\bam i (really |actually )?(talking|speaking) to (you|a |an |some )",
            (
                r"\bare you (really |actually |just )?(an? )?"
                r"(ai|a\.i\.|robot|bot|computer|machine|program|recording|fake)\b"
            ),
            r"\bis this (an? )?(ai|a\.i\.|robot|bot|computer|program|recording|fake)\b",
            r"\bwhat are you\b",
            r"\bare you really (him|her|my \w+)\b",
        )
    ),
    re.IGNORECASE,
)


def detect_crisis(text: str) -> bool:
    """Whether the user's words speak of wanting to die or to harm themselves."""
    match = CRISIS_RE.search(text)
    return bool(match) and not DENIED_RE.search(text)


def asks_if_real(text: str, name: str = "") -> bool:
    """Whether the user sincerely asks if this is really the person (a question, not a figure of speech)."""
    asked = bool(REAL_RE.search(text))
    if name and not asked:
        asked = bool(re.search(rf"\bare you (really|actually) {re.escape(name)}\b", text, re.IGNORECASE))
    return asked and ("?" in text or text.lower().startswith(("tell me", "be honest")))


def crisis_line(country: str | None, lines: Mapping[str, Any] | None = None) -> CrisisLine:
    """The crisis line for a two-letter country code; config entries override the defaults."""
    code = (country or "").upper()
    if lines and code in lines:
        raw = lines[code]
        return raw if isinstance(raw, CrisisLine) else msgspec.convert(raw, CrisisLine)
    return DEFAULT_LINES.get(code, FALLBACK_LINE)


def last_user_text(history: Sequence[Turn]) -> str:
    """What the user said last ('' if they have said nothing yet)."""
    for turn in reversed(history):
        if turn.role is Role.USER:
            return turn.text
    return ""


def care_flags(
    history: Sequence[Turn], *, country: str | None = None, lines: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Flags to store on the reply's message row and send to the client; {} when all is well."""
    text = last_user_text(history)
    flags: dict[str, Any] = {}
    if detect_crisis(text):
        line = crisis_line(country, lines)
        flags.update(crisis=True, country=(country or "").upper() or None, crisis_line=msgspec.to_builtins(line))
    if asks_if_real(text):
        flags["disclosed_ai"] = True
    return flags


def how_to_reach(line: CrisisLine) -> str:
    """'Samaritans on 116 123' or the line's name alone."""
    return f"{line.name} on {line.phone}" if line.phone else line.name
