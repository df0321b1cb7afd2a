"""What the server tells the client during a call (sent as JSON over the data channel)."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from server.media import AvatarState, Emotion


class StateEvent(msgspec.Struct, frozen=True, tag="state", tag_field="type"):
    state: AvatarState


class CaptionEvent(msgspec.Struct, frozen=True, tag="caption", tag_field="type"):
    role: str  # "user" | "avatar"
    text: str
    final: bool = True
    turn: int = 0


class EmotionEvent(msgspec.Struct, frozen=True, tag="emotion", tag_field="type"):
    emotion: Emotion


class FlagEvent(msgspec.Struct, frozen=True, tag="flag", tag_field="type"):
    """A care flag raised on an utterance (e.g. crisis), so the client can show help."""

    flags: dict[str, Any]


class ErrorEvent(msgspec.Struct, frozen=True, tag="error", tag_field="type"):
    message: str
    fatal: bool = False


class NoticeEvent(msgspec.Struct, frozen=True, tag="notice", tag_field="type"):
    """Something the user should know about this call that is not an error (shown, not alarming)."""

    message: str


class CallEvent(msgspec.Struct, frozen=True, tag="call", tag_field="type"):
    """The call's id and what it is recording; sent once the channel opens."""

    call_id: int | None
    recording: bool = False


class EndedEvent(msgspec.Struct, frozen=True, tag="ended", tag_field="type"):
    reason: str


Event = StateEvent | CaptionEvent | EmotionEvent | FlagEvent | ErrorEvent | NoticeEvent | CallEvent | EndedEvent

_encoder = msgspec.json.Encoder()


def encode(event: Event) -> str:
    return _encoder.encode(event).decode()


def decode(text: str | bytes) -> Event:
    event: Event = msgspec.json.decode(text, type=Event)
    return event


class Emit(Protocol):
    def __call__(self, event: Event) -> None: ...
