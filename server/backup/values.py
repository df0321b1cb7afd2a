"""Column values as portable JSON: the same dump loads into SQLite and MySQL/MariaDB.

Each column gets a kind from its SQLAlchemy type; the kind is stored in the manifest, so the
restore side decodes without knowing the models that wrote the dump.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, Numeric, String, Time
from sqlalchemy.sql.sqltypes import _Binary  # LargeBinary, BINARY, VARBINARY and MySQL's BLOBs
from sqlalchemy.types import TypeEngine

from server.backup.errors import BackupError

# Checked in order: Boolean and Float before their broader relatives.
_KINDS: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
    (JSON, "json"),
    (Boolean, "bool"),
    (DateTime, "datetime"),
    (Date, "date"),
    (Time, "time"),
    (_Binary, "binary"),
    (Integer, "int"),
    (Float, "float"),
    (Numeric, "decimal"),
    (String, "str"),  # Text, Enum and the MySQL text types are Strings too
)
KINDS = frozenset(kind for _, kind in _KINDS)


def kind_of(type_: TypeEngine[Any], *, where: str) -> str:
    """The portable kind of a column type; BackupError for a type this format cannot carry."""
    for base, kind in _KINDS:
        if isinstance(type_, base):
            return kind
    raise BackupError(f"cannot back up column {where} of type {type_!r}", hint="teach server/backup/values.py its kind")


def encode(kind: str, value: Any) -> Any:
    """A Python value read from the database as a JSON-ready value."""
    if value is None:
        return None
    if kind in ("datetime", "date", "time"):
        return value.isoformat()
    if kind == "binary":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "decimal":
        return str(value)
    if kind == "bool":
        return bool(value)
    return value


def decode(kind: str, value: Any, *, json_as_text: bool = False) -> Any:
    """The Python value to insert; `json_as_text` for a JSON column the target stores as text."""
    if value is None:
        return None
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "time":
        return time.fromisoformat(value)
    if kind == "binary":
        return base64.b64decode(value, validate=True)
    if kind == "decimal":
        return Decimal(value)
    if kind == "json" and json_as_text:
        return json.dumps(value)
    return value
