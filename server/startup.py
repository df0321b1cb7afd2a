"""What a server does before taking requests: put right what the last run left when it was killed."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.domain.calls.records import close_stale_calls
from server.storage import Storage

log = logging.getLogger(__name__)


async def recover(sessionmaker: async_sessionmaker[AsyncSession], storage: Storage) -> None:
    """Close call rows left open (no call of this process is live yet)."""
    closed = await close_stale_calls(sessionmaker)
    if closed:
        log.info("closed %d call(s) left open by the previous run", closed)
