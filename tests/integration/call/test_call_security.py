"""What an attacker found in calls, each reproduced: a deleted avatar's call writing into someone
else's rows, offers that never connect piling up, garbage offers leaving rows, recordings whose
thread hangs the server. Real aiortc peers over 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from sqlalchemy import func, select

from server.db.models import Conversation, Message, VideoCall
from server.settings import CallLimits

from .conftest import Client, face_jpeg
from .test_call_api import final_reply, wait_for

pytestmark = pytest.mark.slow


async def rows(sessionmaker: Any, model: Any) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def silent_offer() -> tuple[RTCPeerConnection, str]:
    """A real offer whose client will never answer ICE (it is closed right after)."""
    pc = RTCPeerConnection()
    pc.addTransceiver("audio", direction="sendrecv")
    pc.addTransceiver("video", direction="recvonly")
    pc.createDataChannel("events")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def test_deleting_an_avatar_ends_its_call_and_nothing_more_is_written(
    client: Client, auth: dict[str, str], call: Any, speech: Any, sessionmaker: Any
) -> None:
    peer, call_id = await call(record=True)
    try:
        peer.say(speech(0.8), 48000)
        await wait_for(peer, final_reply(1))
        avatar = (await client.get(f"/calls/{call_id}", headers=auth)).json()["avatar_id"]
        started = time.monotonic()
        assert (await client.delete(f"/avatars/{avatar}", headers=auth)).status_code == 204
        assert time.monotonic() - started < 15  # the recording's thread did not hold the request
        assert call_id not in client.app.state.runtime.calls.calls
        peer.say(speech(0.8), 48000)  # the user goes on talking into a call that has ended
        await asyncio.sleep(2.0)
    finally:
        await peer.close()
    assert await rows(sessionmaker, Conversation) == 0 and await rows(sessionmaker, Message) == 0
    # a new avatar and call of someone else get fresh ids, never the deleted ones
    other = {"email": "eve@example.org", "password": "another battery"}
    await client.post("/auth/register", json=other)
    token = (await client.post("/auth/login", json=other)).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"name": "Bo", "relationship": "my dad", "consent": True, "consent_statement": "ok"}
    new_avatar = (await client.post("/avatars", json=body, headers=headers)).json()["id"]
    assert new_avatar > avatar
    assert (await client.get("/avatars", headers=auth)).status_code == 200  # the server still answers


async def test_garbage_and_weak_offers_are_refused_and_leave_no_rows(
    client: Client, auth: dict[str, str], avatar_id: int, sessionmaker: Any
) -> None:
    pc, sdp = await silent_offer()
    await pc.close()
    md5 = "\n".join(
        line.split(" ")[0].replace("sha-256", "md5") + " " + ":".join(["AB"] * 16) if "fingerprint" in line else line
        for line in sdp.split("\n")
    )
    no_fingerprint = "\n".join(line for line in sdp.split("\n") if "fingerprint" not in line)
    for offer in ("garbage", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", md5, no_fingerprint):
        response = await client.post(f"/avatars/{avatar_id}/calls", json={"sdp": offer}, headers=auth)
        assert response.status_code == 400, response.text
        assert "offer" in response.json()["error"]
    assert await rows(sessionmaker, VideoCall) == 0 and await rows(sessionmaker, Conversation) == 0


async def test_calls_are_limited_per_user_and_per_server(
    client: Client, auth: dict[str, str], avatar_id: int, sessionmaker: Any
) -> None:
    manager = client.app.state.runtime.calls
    manager.settings = manager.settings.with_changes(calls=CallLimits(max_calls=3, per_user=2, connect_timeout_s=2.0))
    pcs = []
    statuses = []
    try:
        for _ in range(3):
            pc, sdp = await silent_offer()
            pcs.append(pc)
            response = await client.post(f"/avatars/{avatar_id}/calls", json={"sdp": sdp}, headers=auth)
            statuses.append(response.status_code)
        assert statuses == [201, 201, 429]
        assert "hang up the other call" in response.json()["hint"]
        # offers that never connect are ended by themselves, which frees the user's slots
        deadline = time.monotonic() + 15
        while manager.calls and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert not manager.calls
        async with sessionmaker() as session:
            reasons = list(await session.scalars(select(VideoCall.end_reason)))
        assert reasons == ["could not connect", "could not connect"]
        manager.settings = manager.settings.with_changes(calls=CallLimits(max_calls=0, per_user=2))
        pc, sdp = await silent_offer()
        pcs.append(pc)
        busy = await client.post(f"/avatars/{avatar_id}/calls", json={"sdp": sdp}, headers=auth)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "30"
    finally:
        for pc in pcs:
            await pc.close()


async def test_a_photo_upload_during_a_call_is_fine(client: Client, auth: dict[str, str], call: Any) -> None:
    peer, _ = await call()
    try:
        avatar = (await client.get("/avatars", headers=auth)).json()[0]["id"]
        extra = await client.post(
            f"/avatars/{avatar}/photos", files={"file": ("b.jpg", face_jpeg(), "image/jpeg")}, headers=auth
        )
        assert extra.status_code == 201
    finally:
        await peer.close()
