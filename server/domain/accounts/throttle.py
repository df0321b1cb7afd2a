"""Slow down password guessing: too many failed logins for one email from one address, in a
window, and that pair is refused until the window has passed. In memory, per process: enough for
one self-hosted server, and it forgets on restart."""

from __future__ import annotations

import time
from collections.abc import Callable

from server.errors import MemoriaError


class TooManyAttempts(MemoriaError):
    """Refused for a while after repeated failures."""

    status_code = 429


class LoginThrottle:
    """Counts failures per (email, client address); `clock` is injectable for tests."""

    def __init__(
        self, max_failures: int = 10, window_s: float = 15 * 60, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[tuple[str, str], list[float]] = {}

    def check(self, email: str, address: str) -> None:
        """Raise TooManyAttempts if this pair has failed too often lately."""
        recent = self._recent((email, address))
        if len(recent) >= self.max_failures:
            wait = int(recent[0] + self.window_s - self.clock()) + 1
            raise TooManyAttempts("too many failed logins", hint=f"try again in {wait} s")

    def failed(self, email: str, address: str) -> None:
        key = (email, address)
        self._failures[key] = [*self._recent(key), self.clock()]
        if len(self._failures) > 100_000:  # a flood of made-up emails must not grow memory forever
            self._failures = {k: v for k, v in self._failures.items() if self._recent(k)}

    def succeeded(self, email: str, address: str) -> None:
        self._failures.pop((email, address), None)

    def _recent(self, key: tuple[str, str]) -> list[float]:
        since = self.clock() - self.window_s
        return [t for t in self._failures.get(key, []) if t > since]
