"""Knobs shared by the basic backends so tests can make them slow or make them fail mid-stream."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from server.errors import BackendFailure


class Faults:
    """`fake_delay_ms` before each item, `fake_exception_after` items then BackendFailure."""

    def __init__(self, config: Mapping[str, Any], name: str) -> None:
        self.delay_s = float(config.get("fake_delay_ms", 0) or 0) / 1000.0
        first = config.get("fake_first_delay_ms")
        self.first_delay_s = float(first) / 1000.0 if first is not None else self.delay_s
        after = config.get("fake_exception_after")
        self.exception_after: int | None = int(after) if after is not None else None
        self.name = name

    async def before_item(self, index: int) -> None:
        """Wait and/or fail before yielding item number `index` (0-based) of one stream."""
        delay = self.first_delay_s if index == 0 else self.delay_s
        if delay > 0:
            await asyncio.sleep(delay)
        if self.exception_after is not None and index >= self.exception_after:
            raise BackendFailure(f"{self.name}: fake failure after {self.exception_after} items (fake_exception_after)")
