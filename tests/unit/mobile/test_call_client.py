"""The call client against a real aiortc answerer over loopback: media both ways, events,
mute, retries, redial on a network change, and hang-up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
import pytest

from mobile.errors import CallFailed
from mobile.rtc.call import CallClient, CallOptions
from mobile.rtc.events import CallEnded, CallEvent, Caption, Connection, CrisisBanner, StateChanged
from mobile.rtc.sinks import NullAudioOutput
from mobile.rtc.tracks import CameraTrack, MicTrack

from .fakes import FaceTrack, FakeCallServer, ToneTrack


class Screen:
    """Collects frames and events the way a call screen would."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.events: list[CallEvent] = []

    def show(self, rgb: np.ndarray) -> None:
        self.frames.append(rgb)

    def of(self, kind: type) -> list[CallEvent]:
        return [e for e in self.events if isinstance(e, kind)]


def make_client(server: FakeCallServer, screen: Screen, *, camera: bool = True, **options: float) -> CallClient:
    return CallClient(
        server,  # type: ignore[arg-type]  # duck-typed fake of ApiClient
        7,
        mic=MicTrack(ToneTrack()),
        camera=CameraTrack(FaceTrack()) if camera else None,
        video_target=screen,
        audio_output=NullAudioOutput(),
        on_event=screen.events.append,
        options=CallOptions(reconnect_delay_s=0.05, **options),  # type: ignore[arg-type]
    )


async def until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the call")
        await asyncio.sleep(0.05)


async def test_media_and_events_flow_and_hang_up_ends_the_call(fake_server: FakeCallServer) -> None:
    # the shapes server/pipeline/events.py sends
    fake_server.messages = [
        {"type": "call", "call_id": 101, "recording": False},
        {"type": "state", "state": "speaking"},
        {"type": "caption", "role": "avatar", "text": "Hello love.", "final": True, "turn": 1},
        {
            "type": "flag",
            "flags": {"crisis": True, "country": "GB", "crisis_line": {"name": "Samaritans", "phone": "116 123"}},
        },
    ]
    screen = Screen()
    client = make_client(fake_server, screen)
    await client.start()
    await until(lambda: len(screen.frames) >= 5 and client.audio.samples > 48_000 // 2 and len(screen.events) >= 6)
    assert screen.frames[-1].shape == (64, 64, 3)
    assert tuple(screen.frames[-1][32, 32]) == pytest.approx((200, 120, 40), abs=12)
    assert client.audio.output.peak > 2000  # type: ignore[attr-defined]
    assert Caption(role="avatar", text="Hello love.") in screen.events
    assert StateChanged("speaking") in screen.events
    banner = screen.of(CrisisBanner)[0]
    assert banner.lines[0].phone == "116 123"  # type: ignore[union-attr]
    assert Connection("connected") in screen.events
    await until(lambda: max(fake_server.mic_peaks, default=0) > 2000)

    await client.hang_up()
    await client.hang_up()
    assert fake_server.ended == [101]
    assert screen.of(CallEnded) == [CallEnded("user_hangup")]
    assert client.connection_state == "closed"


async def test_muted_mic_sends_silence(fake_server: FakeCallServer) -> None:
    screen = Screen()
    client = make_client(fake_server, screen, camera=False)
    client.mic.muted = True
    await client.start()
    try:
        await until(lambda: len(fake_server.mic_peaks) >= 50)
        assert max(fake_server.mic_peaks[-30:]) < 200
        client.mic.muted = False
        count = len(fake_server.mic_peaks)
        await until(lambda: len(fake_server.mic_peaks) >= count + 50)
        assert max(fake_server.mic_peaks[-30:]) > 2000
        assert len(screen.frames) > 0  # receive-only video still arrives without a camera
    finally:
        await client.hang_up()


async def test_retries_an_unreachable_server_then_connects(fake_server: FakeCallServer) -> None:
    fake_server.fail_offers = 1
    screen = Screen()
    client = make_client(fake_server, screen)
    await client.start()
    try:
        await until(lambda: len(screen.frames) >= 3)
        assert fake_server.offers == 2
        assert client.call_ids == [102]
    finally:
        await client.hang_up()


async def test_gives_up_with_a_readable_error(fake_server: FakeCallServer) -> None:
    fake_server.fail_offers = 99
    client = make_client(fake_server, Screen(), reconnect_attempts=2)
    with pytest.raises(CallFailed, match="server down"):
        await client.start()
    assert fake_server.offers == 2
    await client.hang_up()


async def test_network_change_redials_and_media_resumes(fake_server: FakeCallServer) -> None:
    screen = Screen()
    client = make_client(fake_server, screen)
    await client.start()
    try:
        await until(lambda: len(screen.frames) >= 3)
        await client.network_changed()
        before = len(screen.frames)
        await until(lambda: len(screen.frames) >= before + 5)
        assert client.call_ids == [101, 102]
        assert fake_server.ended == [101]
        assert Connection("reconnecting", "network changed") in screen.events
    finally:
        await client.hang_up()
    assert fake_server.ended == [101, 102]


async def test_hanging_up_during_a_redial_leaves_no_connection(fake_server: FakeCallServer) -> None:
    screen = Screen()
    client = make_client(fake_server, screen)
    await client.start()
    await until(lambda: len(screen.frames) >= 3)
    fake_server.offer_delay_s = 1.0  # the redial's answer is slow to come...
    redial = asyncio.ensure_future(client.network_changed())
    await until(lambda: fake_server.offers >= 2)
    await client.hang_up()  # ...and the person hangs up meanwhile
    await asyncio.wait_for(redial, 5)
    await asyncio.sleep(1.2)  # past the moment the answer would have arrived
    assert client.connection_state == "closed" and client.call_ids == [101]
    assert screen.of(CallEnded) == [CallEnded("user_hangup")]


async def test_a_dead_connection_is_noticed_within_seconds_and_redialled(fake_server: FakeCallServer) -> None:
    """The server's audio stops (a dead path ICE has not noticed: its consent checks take ~30 s)."""
    screen = Screen()
    client = make_client(fake_server, screen, media_timeout_s=1.0)
    await client.start()
    try:
        await until(lambda: client.audio.last_audio_at is not None)
        for transceiver in fake_server.peers[0].getTransceivers():
            if transceiver.kind == "audio":
                transceiver.sender.replaceTrack(None)  # nothing more arrives on this connection
        started = asyncio.get_running_loop().time()
        await until(lambda: Connection("reconnecting", "no media") in screen.events, timeout=5)
        assert asyncio.get_running_loop().time() - started < 3
        await until(lambda: client.call_ids == [101, 102])
        assert fake_server.ended == [101]
        await until(lambda: client.audio.last_audio_at is not None)  # the new connection has sound
    finally:
        await client.hang_up()
