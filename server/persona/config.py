"""The settings every persona backend shares (care and memory retrieval), and those of the chat
model backends. Each backend names its schema on its BackendInfo; the registry validates the
`[config.NAME]` table against it at start-up."""

from __future__ import annotations

from typing import Literal

import msgspec


class CrisisLineConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    phone: str = ""
    text: str = ""
    url: str = ""


class PersonaConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`country` picks the crisis line shown to a user in crisis; `crisis_lines` adds or replaces
    lines by two-letter country code; `retrieval` picks how memories are found."""

    country: str | None = None
    crisis_lines: dict[str, CrisisLineConfig] = msgspec.field(default_factory=dict)
    retrieval: Literal["auto", "lexical", "semantic"] | None = None


class ChatConfig(PersonaConfig, frozen=True):
    """A persona answered by a chat model."""

    temperature: float = 0.7
    max_tokens: int = 120
    timeout_s: float = 30.0
    retries: int = 2  # 429/5xx and connection failures before the first token
