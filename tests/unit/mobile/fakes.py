"""A fake Memoria server for the app's unit tests: a real aiortc answerer behind the API calls
the call client makes, with knobs instead of mocks."""

from __future__ import annotations

import asyncio
import fractions
import json
from dataclasses import dataclass, field

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from mobile.errors import ServerUnreachable
from mobile.models import CallAnswer
from mobile.rtc.tracks import AUDIO_RATE, VIDEO_CLOCK, VIDEO_FPS, _Pacer


class ToneTrack(MediaStreamTrack):
    """The avatar's 'voice': a 440 Hz tone in 20 ms frames."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pts = 0
        self._pacer = _Pacer()

    async def recv(self) -> av.AudioFrame:
        n = AUDIO_RATE // 50
        t = (np.arange(n) + self._pts) / AUDIO_RATE
        pcm = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        await self._pacer.wait_until(self._pts / AUDIO_RATE)
        self._pts += n
        return frame


class FaceTrack(MediaStreamTrack):
    """The avatar's 'face': a solid colour whose red channel counts frames."""

    kind = "video"

    def __init__(self, size: int = 64) -> None:
        super().__init__()
        self._index = 0
        self._size = size
        self._pacer = _Pacer()

    async def recv(self) -> av.VideoFrame:
        image = np.full((self._size, self._size, 3), (200, 120, 40), np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self._index * VIDEO_CLOCK // VIDEO_FPS
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        await self._pacer.wait_until(self._index / VIDEO_FPS)
        self._index += 1
        return frame


@dataclass
class FakeCallServer:
    """Answers offers like the real server would; `fail_offers` refuses the first N."""

    messages: list[dict[str, object]] = field(default_factory=list)
    fail_offers: int = 0
    offer_delay_s: float = 0.0  # a slow server: the answer takes this long
    offers: int = 0
    ended: list[int] = field(default_factory=list)
    received: list[dict[str, object]] = field(default_factory=list)
    mic_peaks: list[int] = field(default_factory=list)
    peers: list[RTCPeerConnection] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def offer(self, avatar_id: int, sdp: str, sdp_type: str = "offer") -> CallAnswer:
        self.offers += 1
        await asyncio.sleep(self.offer_delay_s)
        if self.offers <= self.fail_offers:
            raise ServerUnreachable("fake: server down")
        pc = RTCPeerConnection()
        self.peers.append(pc)
        pc.on("datachannel", self._on_channel)
        pc.on("track", lambda track: self._tasks.append(asyncio.ensure_future(self._listen(track))))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=sdp_type))
        for transceiver in pc.getTransceivers():
            track = ToneTrack() if transceiver.kind == "audio" else FaceTrack()
            transceiver.sender.replaceTrack(track)
            transceiver.direction = "sendrecv"
        await pc.setLocalDescription(await pc.createAnswer())
        return CallAnswer(call_id=100 + self.offers, sdp=pc.localDescription.sdp, type=pc.localDescription.type)

    def _on_channel(self, channel: object) -> None:
        def opened() -> None:
            for message in self.messages:
                channel.send(json.dumps(message))  # type: ignore[attr-defined]

        channel.on("message", lambda raw: self.received.append(json.loads(raw)))  # type: ignore[attr-defined]
        if getattr(channel, "readyState", "") == "open":
            opened()
        else:
            channel.on("open", opened)  # type: ignore[attr-defined]

    async def _listen(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if track.kind == "audio":
                pcm = frame.to_ndarray()
                self.mic_peaks.append(int(np.abs(pcm.astype(np.int32)).max()) if pcm.size else 0)

    async def end_call(self, call_id: int) -> None:
        self.ended.append(call_id)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for pc in self.peers:
            await pc.close()
