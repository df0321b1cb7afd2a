"""Call events the screens react to, and the parser that turns data-channel JSON into them.

The parser is lenient about shape (a newer server may add fields or kinds) but strict about
meaning: an unknown kind becomes None and is ignored, never a crash mid-call.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec


class Caption(msgspec.Struct, frozen=True):
    """Words said in the call; `role` is "user" or "avatar"; partial captions may be replaced."""

    role: str
    text: str
    final: bool = True


class StateChanged(msgspec.Struct, frozen=True):
    """The avatar is listening, thinking, speaking or idle."""

    state: str


class EmotionChanged(msgspec.Struct, frozen=True):
    emotion: str


class CrisisLine(msgspec.Struct, frozen=True):
    name: str
    phone: str = ""
    url: str = ""
    text: str = ""


class CrisisBanner(msgspec.Struct, frozen=True):
    """The server heard distress: show help lines until the person dismisses them."""

    message: str
    lines: tuple[CrisisLine, ...] = ()


class Connection(msgspec.Struct, frozen=True):
    """Our own view of the link: connecting, connected, reconnecting, ended or failed."""

    status: str
    detail: str = ""


class CallEnded(msgspec.Struct, frozen=True):
    reason: str = ""


class CallInfo(msgspec.Struct, frozen=True):
    """The server's id for this call and whether it is recording it."""

    call_id: int | None
    recording: bool = False


class Notice(msgspec.Struct, frozen=True):
    """Something the server wants shown briefly (e.g. recording started, a backend failed)."""

    text: str


Parser = Callable[[dict[str, Any]], "CallEvent | None"]
CallEvent = Caption | StateChanged | EmotionChanged | CrisisBanner | Connection | CallEnded | CallInfo | Notice

DEFAULT_CRISIS_MESSAGE = "If you are thinking about harming yourself, please talk to someone now."


def parse_message(raw: str | bytes) -> CallEvent | None:
    """One data-channel message to an event, or None when it is not one we show."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    kind = str(data.get("type") or data.get("event") or "").lower()
    return _PARSERS.get(kind, _ignore)(data)


def _text(data: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str):
            return value
    return ""


def _caption(data: dict[str, Any]) -> CallEvent | None:
    text = _text(data, "text", "caption")
    role = _text(data, "role", "speaker") or "avatar"
    if not text:
        return None
    return Caption(
        role="user" if role in ("user", "you", "human") else "avatar", text=text, final=bool(data.get("final", True))
    )


def _role_caption(role: str) -> Parser:
    return lambda data: _caption({**data, "role": role})


def _state(data: dict[str, Any]) -> CallEvent | None:
    state = _text(data, "state", "value")
    emotion = _text(data, "emotion")
    if state:
        return StateChanged(state=state.lower())
    return EmotionChanged(emotion=emotion.lower()) if emotion else None


def _emotion(data: dict[str, Any]) -> CallEvent | None:
    emotion = _text(data, "emotion", "value")
    return EmotionChanged(emotion=emotion.lower()) if emotion else None


def _crisis(data: dict[str, Any]) -> CallEvent | None:
    raw_lines = data.get("lines") or data.get("crisis_lines") or data.get("crisis_line") or []
    lines: list[CrisisLine] = []
    for item in raw_lines if isinstance(raw_lines, list) else [raw_lines]:
        if isinstance(item, dict):
            lines.append(
                CrisisLine(
                    name=_text(item, "name", "title"),
                    phone=_text(item, "phone", "number"),
                    url=_text(item, "url", "website"),
                    text=_text(item, "text", "sms"),
                )
            )
        elif isinstance(item, str):
            lines.append(CrisisLine(name=item))
    return CrisisBanner(message=_text(data, "message", "text") or DEFAULT_CRISIS_MESSAGE, lines=tuple(lines))


def _flag(data: dict[str, Any]) -> CallEvent | None:
    """Care flags on an utterance: {"flags": {"crisis": true, "crisis_line": {...}}} shows the banner."""
    flags = data.get("flags")
    if isinstance(flags, dict) and flags.get("crisis"):
        return _crisis(flags)
    return None


def _call(data: dict[str, Any]) -> CallEvent | None:
    call_id = data.get("call_id")
    return CallInfo(call_id=call_id if isinstance(call_id, int) else None, recording=bool(data.get("recording")))


def _ended(data: dict[str, Any]) -> CallEvent | None:
    return CallEnded(reason=_text(data, "reason"))


def _notice(data: dict[str, Any]) -> CallEvent | None:
    text = _text(data, "message", "text", "error")
    return Notice(text=text) if text else None


def _ignore(data: dict[str, Any]) -> CallEvent | None:
    return None


_PARSERS: dict[str, Parser] = {
    "caption": _caption,
    "transcript": _role_caption("user"),
    "user": _role_caption("user"),
    "reply": _role_caption("avatar"),
    "avatar": _role_caption("avatar"),
    "state": _state,
    "avatar_state": _state,
    "emotion": _emotion,
    "crisis": _crisis,
    "flag": _flag,
    "call": _call,
    "care": _crisis,
    "end": _ended,
    "ended": _ended,
    "call_ended": _ended,
    "notice": _notice,
    "error": _notice,
    "recording": _notice,
}
