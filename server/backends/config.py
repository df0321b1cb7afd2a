"""Backend settings: each backend declares the schema of its `[config.NAME]` table on its
`BackendInfo`; this module turns the table (plus secrets from the environment) into that schema,
with one error that names the backend and the field."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from server.errors import ConfigError

if TYPE_CHECKING:
    from server.backends.base import BackendInfo

_AT = re.compile(r"\s*-\s*at `\$\.?([^`]*)`$")
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]+)`")


def options_for(
    info: BackendInfo, config: Mapping[str, Any] | msgspec.Struct | None, env: Mapping[str, str] | None = None
) -> Any:
    """The validated settings of `info`'s backend: an `info.config` instance, or a dict without a schema."""
    if info.config is not None and isinstance(config, info.config):
        return config
    raw = msgspec.structs.asdict(config) if isinstance(config, msgspec.Struct) else dict(config or {})
    environ = os.environ if env is None else env
    for field, variable in info.secrets.items():
        if not raw.get(field) and environ.get(variable):
            raw[field] = environ[variable]
    if info.config is None:
        return raw
    try:
        return msgspec.convert(raw, info.config, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(
            f"[config.{info.name}] {describe(exc)}",
            hint=f"see {info.docs}" if info.docs else "see `memoria plugins` and the plugin's README",
        ) from exc


def describe(exc: msgspec.ValidationError, unknown_field: str = "no such setting") -> str:
    """msgspec's 'Expected `int`, got `str` - at `$.port`' as 'port: expected `int`, got `str`'."""
    text = str(exc)
    unknown = _UNKNOWN.match(text)
    if unknown:
        return f"{unknown.group(1)}: {unknown_field}"
    at = _AT.search(text)
    problem = _AT.sub("", text)
    problem = problem[:1].lower() + problem[1:]
    return f"{at.group(1)}: {problem}" if at and at.group(1) else problem
