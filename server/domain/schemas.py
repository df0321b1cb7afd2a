"""Request and response bodies. Create/Update types forbid unknown fields, so a typo is a 400
rather than a silently ignored value; Read types are what clients get back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

Email = Annotated[str, Meta(min_length=3, max_length=254, pattern=r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$")]
Password = Annotated[str, Meta(min_length=8, max_length=1024, description="at least 8 characters")]
ShortText = Annotated[str, Meta(max_length=120)]
Name = Annotated[str, Meta(min_length=1, max_length=120)]


class Input(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every request body."""


class Output(msgspec.Struct, kw_only=True):
    """Base of every response body. The database keeps naive UTC; clients get it marked as UTC."""

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime) and value.tzinfo is None:
                setattr(self, name, value.replace(tzinfo=UTC))


# -- accounts ------------------------------------------------------------------------------------


class UserCreate(Input):
    email: Email
    password: Password
    display_name: ShortText = ""


class LoginRequest(Input):
    email: Annotated[str, Meta(max_length=254)]
    password: Annotated[str, Meta(max_length=1024)]


class UserRead(Output, kw_only=True):
    id: int
    email: str
    display_name: str
    created_at: datetime


class TokenRead(Output, kw_only=True):
    token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: UserRead


# -- avatars -------------------------------------------------------------------------------------


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


# -- photos and voice ----------------------------------------------------------------------------


class PhotoRead(Output, kw_only=True):
    id: int
    width: int
    height: int
    is_primary: bool
    quality_score: float
    quality: dict[str, Any]  # the parts of the score and advice for a better photo
    bbox: list[float]
    landmark_count: int
    created_at: datetime


class PhotoDetail(PhotoRead, kw_only=True):
    landmarks: list[list[float]]  # [x, y] in pixels of the stored image


class VoiceSampleRead(Output, kw_only=True):
    id: int
    original_name: str
    duration_s: float
    sample_rate: int
    created_at: datetime


# -- personality and memories --------------------------------------------------------------------


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
