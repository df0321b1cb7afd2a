"""One wall-clock origin shared by the avatar's audio and video tracks.

Each track knows only its own media time (samples, frame index); both wait for
`origin + media time`, so they leave together however long either one took.
"""

from __future__ import annotations

import asyncio
import time


class MediaClock:
    def __init__(self) -> None:
        self.origin: float | None = None

    def now(self) -> float:
        """Seconds since the first track asked (starting the clock)."""
        if self.origin is None:
            self.origin = time.monotonic()
        return time.monotonic() - self.origin

    async def wait_until(self, media_time: float) -> float:
        """Sleep until `media_time`; returns how late we already were (seconds, >= 0)."""
        delay = media_time - self.now()
        if delay > 0:
            await asyncio.sleep(delay)
            return 0.0
        return -delay
