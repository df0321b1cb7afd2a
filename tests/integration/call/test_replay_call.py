"""Through the real app (HTTP offer, aiortc peer, SQLite, data folder): a reply the avatar already
said is replayed from the render cache, heard and seen like the first time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from server.db.models import GeneratedVideo
from server.media import AvatarState
from server.pipeline.events import CaptionEvent

pytestmark = pytest.mark.slow

REPLY = "Hello Tom, it is me."


@pytest.fixture
def backend_config() -> dict[str, dict[str, Any]]:
    return {"basic-asr": {"script": ["hello mum", "hello again"]}, "basic-persona": {"reply": REPLY}}


async def final_caption(peer: Any, turn: int, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for t, e in peer.received.events:
            if isinstance(e, CaptionEvent) and e.role == "avatar" and e.final and e.turn == turn:
                return t
        await asyncio.sleep(0.05)
    raise AssertionError(f"no final reply {turn}")


async def test_the_second_time_a_reply_is_replayed_over_webrtc(client, auth, call, speech, sessionmaker) -> None:
    peer, call_id = await call()
    manager = client.app.state.runtime.calls
    session = manager.calls[call_id].session
    try:
        first = peer.say(speech(0.8), 48000)
        await final_caption(peer, 1)
        assert session.replays is not None
        await session.replays.drain()
        drawn = session.backends.animator.drawn[AvatarState.SPEAKING]
        second = peer.say(speech(0.8), 48000)
        await final_caption(peer, 2)
        await asyncio.sleep(0.5)
        assert session.replays.hits == 1
        assert session.backends.voice.spoken == [REPLY]
        assert session.backends.animator.drawn[AvatarState.SPEAKING] == drawn
        loud = [t for t, s in peer.received.audio if np.abs(s).max() > 2000]
        assert first.ended_at is not None and second.ended_at is not None
        heard = [t for t in loud if t > second.ended_at]
        assert heard and heard[0] - second.ended_at < 1.5  # the replay is heard as soon as a reply would be
    finally:
        await client.post(f"/calls/{call_id}/end", headers=auth)
        await peer.close()
    async with sessionmaker() as db:
        rows = list(await db.scalars(select(GeneratedVideo)))
    assert [(r.text, r.emotion, r.backend) for r in rows] == [(REPLY, "happy", "basic-voice+basic-animator")]
