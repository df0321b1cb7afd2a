"""Knobs shared by the basic backends so tests can make them slow, hang or fail mid-stream."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import msgspec

from server.errors import BackendFailure


class FaultConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Settings every basic backend takes: the fault knobs (tests)."""

    fake_delay_ms: float = 0.0  # before each item
    fake_first_delay_ms: float | None = None  # before the first item (default: fake_delay_ms)
    fake_exception_after: int | None = None  # raise BackendFailure before item N (0-based)
    fake_hang_after: int | None = None  # stop forever (without raising) before item N


class Faults:
    """The knobs of one backend's FaultConfig, applied before each item of a stream."""

    def __init__(self, options: FaultConfig, name: str) -> None:
        self.delay_s = options.fake_delay_ms / 1000.0
        first = options.fake_first_delay_ms
        self.first_delay_s = first / 1000.0 if first is not None else self.delay_s
        self.exception_after = options.fake_exception_after
        self.hang_after = options.fake_hang_after
        self.name = name

    async def before_item(self, index: int) -> None:
        """Wait, hang and/or fail before yielding item number `index` (0-based) of one stream."""
        delay = self.first_delay_s if index == 0 else self.delay_s
        if delay > 0:
            await asyncio.sleep(delay)
        if self.hang_after is not None and index >= self.hang_after:
            await asyncio.Event().wait()  # a backend stuck in its model: only cancellation ends it
        if self.exception_after is not None and index >= self.exception_after:
            raise BackendFailure(f"{self.name}: fake failure after {self.exception_after} items (fake_exception_after)")


def variant_without_faults(config: dict[str, Any]) -> str:
    """The render-cache key part of a basic backend: its settings without the fault knobs."""
    kept = {k: v for k, v in config.items() if not k.startswith("fake_")}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:16]
