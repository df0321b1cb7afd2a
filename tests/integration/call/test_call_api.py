"""Whole calls through the HTTP offer endpoint and a real aiortc peer on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from typing import Any

import av
import numpy as np
import pytest
from sqlalchemy import select

from server.db.models import Message, VideoCall
from server.pipeline.events import CaptionEvent, ErrorEvent, StateEvent
from server.rtc.client import LoopbackClient, StillCamera

pytestmark = pytest.mark.slow


async def wait_for(peer: LoopbackClient, predicate: Callable[[Any], bool], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for _, event in peer.received.events:
            if predicate(event):
                return event
        await asyncio.sleep(0.05)
    raise AssertionError(f"no matching event in {[e for _, e in peer.received.events]}")


def final_reply(turn: int) -> Callable[[Any], bool]:
    return lambda e: isinstance(e, CaptionEvent) and e.role == "avatar" and e.final and e.turn == turn


async def call_row(sessionmaker: Any, call_id: int) -> tuple[VideoCall, list[Message]]:
    async with sessionmaker() as session:
        call = await session.get(VideoCall, call_id)
        messages = list(
            await session.scalars(
                select(Message).where(Message.conversation_id == call.conversation_id).order_by(Message.id)
            )
        )
        return call, messages


async def test_a_call_answers_in_voice_and_face_and_is_kept(client, auth, call, speech, sessionmaker) -> None:
    peer, call_id = await call()
    try:
        utterance = peer.say(speech(1.0), 48000)
        await wait_for(peer, final_reply(1), timeout=30)
        loud = [t for t, s in peer.received.audio if np.abs(s).max() > 2000]
        assert utterance.ended_at is not None and loud and loud[0] > utterance.ended_at
        assert loud[0] - utterance.ended_at < 1.5
        assert len(peer.received.video) > 50 and peer.received.video[-1][1].shape == (512, 512, 3)
        states = [e.state.value for _, e in peer.received.events if isinstance(e, StateEvent)]
        assert states[:4] == ["listening", "thinking", "speaking", "listening"]
    finally:
        response = await client.post(f"/calls/{call_id}/end", headers=auth)
        await peer.close()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["end_reason"] == "hung up" and body["ended_at"] and body["total_exchanges"] == 1
    assert [m["role"] for m in body["messages"]] == ["user", "avatar"]
    assert body["messages"][0]["text"] == "hello mum, are you there?"
    assert "bread" in body["messages"][1]["text"] and body["messages"][1]["emotion"] == "happy"

    assert (await client.post(f"/calls/{call_id}/rating", json={"rating": 6}, headers=auth)).status_code == 400
    rated = await client.post(f"/calls/{call_id}/rating", json={"rating": 5}, headers=auth)
    assert rated.status_code == 200 and rated.json()["user_satisfaction"] == 5
    listed = (await client.get("/calls", headers=auth)).json()
    assert [c["id"] for c in listed] == [call_id] and len(listed[0]["messages"]) == 2


async def test_talking_over_the_avatar_silences_it_and_keeps_both_sides(
    client, auth, call, speech, sessionmaker
) -> None:
    peer, call_id = await call()
    try:
        peer.say(speech(1.0), 48000)
        await wait_for(peer, lambda e: isinstance(e, StateEvent) and e.state.value == "speaking")
        await asyncio.sleep(1.0)
        talk = peer.say(speech(0.8), 48000)
        await wait_for(peer, final_reply(2), timeout=30)
        # the avatar's voice stopped soon after the user started talking over it
        loud_after = [t for t, s in peer.received.audio if t > talk.started_at and np.abs(s).max() > 2000]
        gap_start = next(t for t, s in peer.received.audio if t > talk.started_at and np.abs(s).max() < 200)
        assert gap_start - talk.started_at < 0.6
        assert any(t > talk.ended_at for t in loud_after)  # and answered the interruption afterwards
    finally:
        await client.post(f"/calls/{call_id}/end", headers=auth)
        await peer.close()
    _, messages = await call_row(sessionmaker, call_id)
    assert [m.role for m in messages] == ["user", "avatar", "user", "avatar"]
    assert messages[1].flags["interrupted"] is True and messages[1].text
    assert "interrupted" not in messages[3].flags


async def test_hanging_up_mid_reply_ends_the_row_and_keeps_every_word(client, auth, call, speech, sessionmaker) -> None:
    peer, call_id = await call()
    peer.say(speech(1.0), 48000)
    await wait_for(peer, lambda e: isinstance(e, StateEvent) and e.state.value == "speaking")
    await asyncio.sleep(0.5)
    await peer.close()  # the client vanishes: no /end request
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        row, messages = await call_row(sessionmaker, call_id)
        if row.ended_at is not None:
            break
        await asyncio.sleep(0.1)
    assert row.ended_at is not None and row.end_reason in {"hung up", "disconnected"}
    assert [m.role for m in messages] == ["user", "avatar"]
    assert messages[1].flags["interrupted"] is True and messages[1].text.startswith("Hello Tom")
    assert row.total_exchanges == 1
    assert (await client.post(f"/calls/{call_id}/rating", json={"rating": 4}, headers=auth)).status_code == 200


@pytest.mark.parametrize("backend_config", [{"basic-voice": {"fake_exception_after": 10}}])
async def test_a_backend_failing_mid_reply_does_not_end_the_call(
    client, auth, call, speech, sessionmaker, backend_config
) -> None:
    peer, call_id = await call()
    try:
        peer.say(speech(0.8), 48000)
        error = await wait_for(peer, lambda e: isinstance(e, ErrorEvent))
        assert "fake failure" not in error.message and not error.fatal  # plain words on screen; details stored
        await wait_for(peer, final_reply(1))
        peer.say(speech(0.8), 48000)
        await wait_for(peer, final_reply(2))
    finally:
        await client.post(f"/calls/{call_id}/end", headers=auth)
        await peer.close()
    row, messages = await call_row(sessionmaker, call_id)
    assert [m.role for m in messages] == ["user", "avatar", "user", "avatar"]
    assert "fake failure" in messages[1].flags["error"] and messages[1].text  # what was said before the failure
    assert row.ended_at is not None


async def test_a_recorded_call_gives_an_mp4_of_both_sides(client, auth, call, speech, sessionmaker) -> None:
    green = np.zeros((240, 320, 3), np.uint8)
    green[..., 1] = 220  # the user's camera: a green picture, to be found in the recording's corner
    peer, call_id = await call(record=True, camera=StillCamera(green))
    try:
        peer.say(speech(1.0), 48000)
        await wait_for(peer, final_reply(1), timeout=30)
    finally:
        await client.post(f"/calls/{call_id}/end", headers=auth)
        await peer.close()
    response = await client.get(f"/calls/{call_id}/recording", headers=auth)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(response.content)) as container:
        video = container.streams.video[0]
        assert video.average_rate == 25 and (video.width, video.height) == (512, 512)
        audio = container.streams.audio[0]
        assert audio.sample_rate == 48000
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio)])
        container.seek(0)
        pictures = [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]
    # the user's camera sits in the bottom-right corner (4:3, 28 % of the width), the avatar elsewhere
    last = pictures[-1].astype(int)
    inset = last[512 - 12 - 100 : 512 - 12 - 10, 512 - 12 - 130 : 512 - 12 - 10]
    assert inset[..., 1].mean() > 180 and inset[..., 0].mean() < 50 and inset[..., 2].mean() < 50
    avatar = last[100:300, 150:350]
    assert not (avatar[..., 1].mean() > 180 and avatar[..., 0].mean() < 50), "the avatar is covered"
    seconds = len(pcm) / 48000
    assert seconds > 4
    # both sides are in the mix: the user's tone at the start, the avatar's voice after it
    first_second = np.abs(pcm[: 48000 * 2]).max()
    assert first_second > 0.1


async def test_calls_are_private_and_offers_are_checked(client, auth, avatar_id) -> None:
    other = {"email": "eve@example.org", "password": "correct horse battery"}
    await client.post("/auth/register", json={**other, "display_name": "Eve"})
    token = (await client.post("/auth/login", json=other)).json()["token"]
    eve = {"Authorization": f"Bearer {token}"}
    assert (await client.post(f"/avatars/{avatar_id}/calls", json={"sdp": "v=0"}, headers=eve)).status_code == 404
    assert (await client.post(f"/avatars/{avatar_id}/calls", json={"sdp": "v=0"})).status_code == 401
    bad = await client.post(f"/avatars/{avatar_id}/calls", json={"sdp": "not sdp at all"}, headers=auth)
    assert bad.status_code == 400, bad.text
    assert (await client.get("/calls/999/recording", headers=auth)).status_code == 404
