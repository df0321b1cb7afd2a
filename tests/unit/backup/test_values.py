"""Every column kind survives JSON, so a dump made on one database loads into another."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import JSON, Boolean, Date, DateTime, Double, Integer, LargeBinary, Numeric, String, Text, Time
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine, UserDefinedType

from server.backup.errors import BackupError
from server.backup.values import decode, encode, kind_of
from server.db.models import JsonDict, LongText, Timestamp


@pytest.mark.parametrize(
    ("type_", "kind", "value"),
    [
        (Timestamp, "datetime", datetime(2026, 1, 2, 3, 4, 5, 678901)),
        (DateTime(), "datetime", datetime(1999, 12, 31, 23, 59, 59)),
        (Date(), "date", date(2026, 2, 28)),
        (Time(), "time", time(3, 0, 0, 5)),
        (LargeBinary(), "binary", bytes(range(256))),
        (mysql.LONGBLOB(), "binary", b"\x00\xff"),
        (JsonDict, "json", {"a": [1, 2.5, None, "加油"], "b": {"c": True}}),
        (JSON(), "json", ["x", 1]),
        (Boolean(), "bool", True),
        (Integer(), "int", 2**40),
        (Double(), "float", 0.87),
        (Numeric(10, 2), "decimal", Decimal("12.34")),
        (String(20), "str", "Ay, mi niño 🙂"),
        (Text(), "str", "line\nbreak"),
        (LongText, "str", "long"),
    ],
)
def test_kind_and_round_trip_through_json(type_: TypeEngine[Any], kind: str, value: Any) -> None:
    assert kind_of(type_, where="t.c") == kind
    carried = json.loads(json.dumps(encode(kind, value)))
    assert decode(kind, carried) == value
    assert decode(kind, json.loads(json.dumps(encode(kind, None)))) is None


def test_binary_is_base64_and_json_can_be_text_for_the_target() -> None:
    assert encode("binary", b"hi") == "aGk="
    assert decode("json", {"a": 1}, json_as_text=True) == '{"a": 1}'


def test_an_unknown_type_is_refused_with_its_column() -> None:
    class Point(UserDefinedType[Any]):
        cache_ok = True

        def get_col_spec(self, **kw: Any) -> str:
            return "POINT"

    with pytest.raises(BackupError, match="places.where"):
        kind_of(Point(), where="places.where")
