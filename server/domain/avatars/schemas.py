"""What the avatar, personality and memory endpoints take and give."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from server.domain.schemas import Input, Name, Output, ShortText


class AvatarCreate(Input):
    name: Name
    relationship: Annotated[
        str, Meta(min_length=1, max_length=120, description="who the person was to you, e.g. 'my grandmother'")
    ]
    consent_statement: Annotated[
        str, Meta(min_length=1, max_length=4000, description="the consent text the client showed, stored as agreed")
    ]
    consent: bool = False  # must be true: the uploader confirms the right to use this likeness and voice
    user_name: ShortText = ""  # what the person called the user


class AvatarUpdate(Input):
    """Only the fields given change."""

    name: Name | None = None
    relationship: Annotated[str, Meta(min_length=1, max_length=120)] | None = None
    user_name: ShortText | None = None
    backends: dict[str, Annotated[str, Meta(min_length=1, max_length=120)]] | None = None  # kind -> backend name


class VoiceLikenessRead(Output, kw_only=True):
    """How far the voice is shaped after the uploaded samples, for the avatar's voice backend."""

    state: str  # none (no samples) | learning | ready | failed | outdated (samples changed, not learned)
    backend: str | None  # the voice backend it is (or would be) learned for
    error: str | None = None  # why learning failed
    updated_at: datetime | None = None  # when the last learning finished


class AvatarRead(Output, kw_only=True):
    id: int
    name: str
    relationship: str
    user_name: str
    consent_statement: str
    consent_at: datetime
    backends: dict[str, str]
    primary_photo_id: int | None
    voice: VoiceLikenessRead
    created_at: datetime
    updated_at: datetime


class PersonalityWrite(Input):
    personality: str = ""
    speaking_style: str = ""
    example_phrases: Annotated[list[str], Meta(max_length=100)] = msgspec.field(default_factory=list)


class PersonalityRead(Output, kw_only=True):
    personality: str
    speaking_style: str
    example_phrases: list[str]
    updated_at: datetime | None


class MemoryWrite(Input):
    text: Annotated[str, Meta(min_length=1)]


class MemoryRead(Output, kw_only=True):
    id: int
    text: str
    created_at: datetime
    updated_at: datetime
