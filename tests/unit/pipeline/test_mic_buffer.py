"""The server lets the user's voice through aiortc's jitter buffer after one packet, not four."""

from __future__ import annotations

from aiortc import RTCPeerConnection

from server.rtc.peer import MIC_PREFETCH, quicken_mic


async def test_the_mic_jitter_buffer_is_shortened_on_the_pinned_aiortc() -> None:
    pc = RTCPeerConnection()
    try:
        mic = pc.addTransceiver("audio", direction="recvonly").receiver
        camera = pc.addTransceiver("video", direction="recvonly").receiver
        assert quicken_mic(pc, mic.track)
        assert mic._RTCRtpReceiver__jitter_buffer._prefetch == MIC_PREFETCH == 1
        assert camera._RTCRtpReceiver__jitter_buffer._prefetch == 0  # video is left alone
    finally:
        await pc.close()


async def test_an_unknown_track_is_reported_not_raised() -> None:
    pc = RTCPeerConnection()
    other = RTCPeerConnection()
    try:
        stranger = other.addTransceiver("audio", direction="recvonly").receiver.track
        assert not quicken_mic(pc, stranger)
    finally:
        await pc.close()
        await other.close()
