"""What the app reads from the server, as msgspec structs that ignore fields they do not know.

Unknown fields are ignored on purpose: an older app must keep working against a newer server.
"""

from __future__ import annotations

from typing import Any

import msgspec


class User(msgspec.Struct, frozen=True):
    id: int
    email: str
    display_name: str = ""


class Photo(msgspec.Struct, frozen=True):
    id: int
    is_primary: bool = False
    width: int = 0
    height: int = 0
    quality_score: float = 0.0
    quality: dict[str, Any] = {}
    url: str | None = None


class VoiceSample(msgspec.Struct, frozen=True):
    id: int
    duration_s: float = 0.0
    original_name: str = ""
    url: str | None = None


class Memory(msgspec.Struct, frozen=True):
    id: int
    text: str


class Personality(msgspec.Struct, frozen=True):
    personality: str = ""
    speaking_style: str = ""
    example_phrases: list[str] = []


class Avatar(msgspec.Struct, frozen=True):
    id: int
    name: str
    relationship: str = ""
    user_name: str = ""
    consent_at: str | None = None
    primary_photo_id: int | None = None
    photos: list[Photo] = []


class Message(msgspec.Struct, frozen=True):
    role: str
    text: str
    emotion: str | None = None
    flags: dict[str, Any] = {}
    created_at: str | None = None


class CallRecord(msgspec.Struct, frozen=True):
    id: int
    avatar_id: int
    started_at: str | None = None
    ended_at: str | None = None
    end_reason: str | None = None
    total_exchanges: int = 0
    user_satisfaction: int | None = None
    live: bool = False  # still in progress on the server
    avatar_name: str = ""
    messages: list[Message] = []


class CallAnswer(msgspec.Struct, frozen=True):
    """The server's reply to our SDP offer."""

    call_id: int
    sdp: str
    type: str = "answer"


class AvatarDraft(msgspec.Struct):
    """What the create/edit form collects before it is sent."""

    name: str = ""
    relationship: str = ""
    user_name: str = ""
    consent: bool = False
    consent_statement: str = ""
    personality: str = ""
    speaking_style: str = ""
    example_phrases: list[str] = []


def primary_photo(avatar: Avatar) -> Photo | None:
    """The avatar's primary photo, else its first photo, else None."""
    for photo in avatar.photos:
        if photo.is_primary or photo.id == avatar.primary_photo_id:
            return photo
    return avatar.photos[0] if avatar.photos else None
