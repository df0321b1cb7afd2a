"""Log lines that cannot be forged or garbled: control characters in what a client sent (a NUL or
a new line in a path or a name) are written escaped."""

from __future__ import annotations

import logging
import re

CONTROL = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def escape(text: str) -> str:
    return CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class EscapeControls(logging.Filter):
    """Escapes control characters in a record's message and in its string arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = escape(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(escape(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: escape(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True
