"""What text a user may store: no control characters (a NUL in a name reaches logs and files),
no bidirectional overrides (they make a name display as something else), not only spaces."""

from __future__ import annotations

import unicodedata

from server.errors import BadInput

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
LINE_BREAKS = frozenset("\n\t")


def clean_line(field: str, value: str, *, required: bool = True) -> str:
    """One line of text (a name, a relationship): trimmed, NFC, no control or direction characters."""
    return _clean(field, value, allowed=frozenset(), required=required)


def clean_text(field: str, value: str, *, required: bool = True) -> str:
    """Free text (a memory, a personality): like `clean_line`, but new lines and tabs are kept."""
    return _clean(field, value, allowed=LINE_BREAKS, required=required)


def _clean(field: str, value: str, *, allowed: frozenset[str], required: bool) -> str:
    text = unicodedata.normalize("NFC", value).strip()
    for char in text:
        if char in allowed:
            continue
        if unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS:
            raise BadInput(
                f"{field} contains a character that cannot be stored (U+{ord(char):04X})",
                hint="remove control or text-direction characters",
            )
    if required and not text:
        raise BadInput(f"{field} cannot be empty")
    return text
