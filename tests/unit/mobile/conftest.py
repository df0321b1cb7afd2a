"""Shared fixtures for the app's unit tests: a display for Kivy, loopback ICE, a fake call server.

Kivy opens its window when first imported, so the display is arranged here, before any test
module imports a screen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from mobile.headless import ensure_display

HAVE_DISPLAY = ensure_display()

from mobile.rtc.loopback import loopback_ice

from .fakes import FakeCallServer


@pytest.fixture
def loopback() -> Iterator[None]:
    with loopback_ice():
        yield


@pytest.fixture
async def fake_server(loopback: None) -> AsyncIterator[FakeCallServer]:
    server = FakeCallServer()
    try:
        yield server
    finally:
        await server.aclose()
