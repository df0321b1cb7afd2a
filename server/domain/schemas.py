"""What every request and response body shares. Create/Update types forbid unknown fields, so a typo
is a 400 rather than a silently ignored value; Read types are what clients get back. Each domain
has its own schemas module built on these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

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
