"""Data-channel messages become the events the call screen shows; junk never crashes a call."""

from __future__ import annotations

import pytest

from mobile.rtc.events import (
    DEFAULT_CRISIS_MESSAGE,
    CallEnded,
    CallInfo,
    Caption,
    CrisisBanner,
    CrisisLine,
    EmotionChanged,
    Notice,
    StateChanged,
    parse_message,
)


@pytest.mark.parametrize(
    ("raw", "event"),
    [
        ('{"type": "state", "state": "thinking"}', StateChanged("thinking")),
        (
            '{"type": "caption", "role": "user", "text": "hi Nan", "final": false, "turn": 2}',
            Caption("user", "hi Nan", final=False),
        ),
        ('{"type": "caption", "role": "avatar", "text": "Hello, pet."}', Caption("avatar", "Hello, pet.")),
        ('{"type": "emotion", "emotion": "Happy"}', EmotionChanged("happy")),
        ('{"type": "call", "call_id": 7, "recording": true}', CallInfo(7, recording=True)),
        ('{"type": "ended", "reason": "hung up"}', CallEnded("hung up")),
        ('{"type": "error", "message": "the voice failed", "fatal": false}', Notice("the voice failed")),
    ],
)
def test_server_events(raw: str, event: object) -> None:
    assert parse_message(raw) == event


def test_crisis_flag_shows_the_line_the_server_names() -> None:
    raw = '{"type": "flag", "flags": {"crisis": true, "country": "US", "crisis_line": {"name": "988 Lifeline", "phone": "988", "text": "988", "url": "https://988lifeline.org"}}}'
    assert parse_message(raw) == CrisisBanner(
        DEFAULT_CRISIS_MESSAGE, (CrisisLine("988 Lifeline", phone="988", url="https://988lifeline.org", text="988"),)
    )


def test_flags_without_crisis_show_nothing() -> None:
    assert parse_message('{"type": "flag", "flags": {"interrupted": true}}') is None


@pytest.mark.parametrize(
    "raw", ["", "not json", "[1, 2]", '{"type": "telemetry", "x": 1}', '{"type": "caption", "text": ""}', b"\xff\xfe"]
)
def test_junk_and_unknown_kinds_are_ignored(raw: str | bytes) -> None:
    assert parse_message(raw) is None
