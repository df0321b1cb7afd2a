"""Slow down password guessing, in the database so a restart forgets nothing.

Failures are counted in a window per (account, address), per address (one machine trying many
accounts) and per account (many machines trying one). The account limit is high so that someone
who knows a user's email cannot lock them out from one address; the address is the connection's
own (a proxy's X-Forwarded-For is believed only from `trusted_proxies`, see `memoria serve`).
Keys are stored as SHA-256, so the table holds no emails or addresses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import LoginFailure, utcnow
from server.errors import MemoriaError


class TooManyAttempts(MemoriaError):
    """Refused for a while after repeated failures."""

    status_code = 429

    def __init__(self, message: str, *, hint: str | None = None, retry_after: int = 60) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class LoginThrottle:
    """Counts failed logins; `clock` (naive UTC) is injectable for tests."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        per_pair: int = 10,
        per_address: int = 30,
        per_account: int = 100,
        window_s: float = 15 * 60,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.limits = {"pair": per_pair, "address": per_address, "account": per_account}
        self.window_s = window_s
        self.clock = clock

    def _keys(self, email: str, address: str) -> dict[str, str]:
        raw = {"pair": f"pair:{email}|{address}", "address": f"address:{address}", "account": f"account:{email}"}
        return {kind: hashlib.sha256(text.encode()).hexdigest() for kind, text in raw.items()}

    async def check(self, email: str, address: str) -> None:
        """Raise TooManyAttempts if any of the three counts is at its limit in the window."""
        since = self.clock() - timedelta(seconds=self.window_s)
        async with self.sessionmaker() as session:
            for kind, key in self._keys(email, address).items():
                count, oldest = (
                    await session.execute(
                        select(func.count(), func.min(LoginFailure.at)).where(
                            LoginFailure.key == key, LoginFailure.at > since
                        )
                    )
                ).one()
                if count >= self.limits[kind]:
                    wait = int((oldest - since).total_seconds()) + 1
                    raise TooManyAttempts(
                        "too many failed logins", hint=f"try again in {wait} s", retry_after=max(1, wait)
                    )

    async def failed(self, email: str, address: str) -> None:
        now = self.clock()
        async with self.sessionmaker() as session, session.begin():
            session.add_all(LoginFailure(key=key, at=now) for key in self._keys(email, address).values())
            # Forget what is out of every window, so the table stays small.
            await session.execute(delete(LoginFailure).where(LoginFailure.at <= now - timedelta(seconds=self.window_s)))

    async def succeeded(self, email: str, address: str) -> None:
        """The right password from this address: its own failures for this account are forgiven."""
        async with self.sessionmaker() as session, session.begin():
            await session.execute(delete(LoginFailure).where(LoginFailure.key == self._keys(email, address)["pair"]))
