"""An aiortc client for loopback calls (`memoria call`, `memoria bench latency`, tests).

It speaks from WAV-like arrays through a paced mic track, receives the avatar's tracks, and
notes when everything arrived, so callers can measure latency and A/V sync from the user's
side of the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from fractions import Fraction

import av
import msgspec
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from server.pipeline.audio import IntResampler
from server.pipeline.events import Event, decode
from server.rtc.frames import frame_to_mono
from server.rtc.ice import use_loopback
from server.rtc.mp4 import Mp4Writer
from server.rtc.peer import PREFERRED_VIDEO

RATE = 48000
PTIME = 960

Signal = Callable[[str], Awaitable[str]]  # offer SDP -> answer SDP


class Utterance(msgspec.Struct):
    """Something the user says, and when its first and last samples went out."""

    samples: np.ndarray  # int16 mono 48 kHz
    started_at: float | None = None
    ended_at: float | None = None
    started: asyncio.Event = msgspec.field(default_factory=asyncio.Event)  # set with started_at
    ended: asyncio.Event = msgspec.field(default_factory=asyncio.Event)  # set with ended_at


class ScriptedMic(MediaStreamTrack):
    """A mic that plays queued utterances in real time and silence in between."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.queue: list[Utterance] = []
        self.current: Utterance | None = None
        self.offset = 0
        self.pts = 0
        self.origin: float | None = None

    def say(self, samples: np.ndarray, rate: int) -> Utterance:
        if rate != RATE:
            resampler = IntResampler(rate, RATE)
            samples = np.concatenate([resampler.convert(samples), resampler.flush()])
        utterance = Utterance(samples=samples.astype(np.int16))
        self.queue.append(utterance)
        return utterance

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self.origin is None:
            self.origin = time.monotonic()
        delay = self.origin + self.pts / RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        out = np.zeros(PTIME, np.int16)
        filled = 0
        while filled < PTIME:
            if self.current is None:
                if not self.queue:
                    break
                self.current, self.offset = self.queue.pop(0), 0
                self.current.started_at = time.monotonic()
                self.current.started.set()
            take = min(PTIME - filled, len(self.current.samples) - self.offset)
            out[filled : filled + take] = self.current.samples[self.offset : self.offset + take]
            filled += take
            self.offset += take
            if self.offset >= len(self.current.samples):
                # the last sample leaves with this frame: that is the end of the user's speech
                self.current.ended_at = time.monotonic() + filled / RATE
                self.current.ended.set()
                self.current = None
        frame = av.AudioFrame.from_ndarray(out.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, self.pts, Fraction(1, RATE)
        self.pts += PTIME
        return frame

    @property
    def idle(self) -> bool:
        return self.current is None and not self.queue


class StillCamera(MediaStreamTrack):
    """A camera that shows one picture at 25 fps (the user's side of a scripted call)."""

    kind = "video"

    def __init__(self, rgb: np.ndarray) -> None:
        super().__init__()
        self.rgb = np.ascontiguousarray(rgb[: rgb.shape[0] // 2 * 2, : rgb.shape[1] // 2 * 2], dtype=np.uint8)
        self.index = 0
        self.origin: float | None = None

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self.origin is None:
            self.origin = time.monotonic()
        delay = self.origin + self.index / 25 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        frame = av.VideoFrame.from_ndarray(self.rgb, format="rgb24")
        frame.pts, frame.time_base = self.index * 3600, Fraction(1, 90000)
        self.index += 1
        return frame


class Received(msgspec.Struct):
    """What reached the client, with monotonic arrival times; levels are computed on arrival so
    measuring during a call costs nothing."""

    audio: list[tuple[float, np.ndarray]] = msgspec.field(default_factory=list)  # int16 mono 48 kHz, if kept
    video: list[tuple[float, np.ndarray]] = msgspec.field(default_factory=list)  # RGB frames, if kept
    events: list[tuple[float, Event]] = msgspec.field(default_factory=list)
    audio_levels: list[tuple[float, int, float]] = msgspec.field(default_factory=list)  # (time, peak, rms)
    # (time, how much the frame changed from the one before)
    video_motion: list[tuple[float, float]] = msgspec.field(default_factory=list)
    # (time, RTP timestamp) of every frame: which moment of the call each one shows, for A/V sync
    audio_stamps: list[tuple[float, int]] = msgspec.field(default_factory=list)
    video_stamps: list[tuple[float, int]] = msgspec.field(default_factory=list)
    video_frames: int = 0
    video_size: tuple[int, int] = (0, 0)


class LoopbackClient:
    """Calls a server peer over 127.0.0.1: `await connect(signal)`, `say(...)`, `await close()`."""

    def __init__(
        self, *, keep_media: bool = False, writer: Mp4Writer | None = None, camera: MediaStreamTrack | None = None
    ) -> None:
        use_loopback()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.mic = ScriptedMic()
        self.camera = camera  # sent to the server if given; otherwise the call receives video only
        self.received = Received()
        self.keep_media = keep_media
        self.writer = writer  # what the client receives, written as it arrives (`memoria call --out`)
        self._origin: float | None = None
        self._audio_pts: int | None = None
        self._video_index: int | None = None
        self._previous: np.ndarray | None = None
        self.channel = self.pc.createDataChannel("events")
        self.channel.on("message", self._on_message)
        self._tasks: list[asyncio.Task[None]] = []
        self.opened = asyncio.Event()
        self.channel.on("open", self.opened.set)
        self.ended = asyncio.Event()

    async def connect(self, signal: Signal, *, timeout: float = 20.0) -> None:
        self.pc.addTrack(self.mic)
        if self.camera is not None:
            video = self.pc.addTransceiver(self.camera, direction="sendrecv")
        else:
            video = self.pc.addTransceiver("video", direction="recvonly")
        video.setCodecPreferences(
            [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType in PREFERRED_VIDEO]
        )
        self.pc.on("track", self._on_track)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        answer = await signal(self.pc.localDescription.sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.wait_for(self.opened.wait(), timeout)

    def say(self, samples: np.ndarray, rate: int) -> Utterance:
        return self.mic.say(samples, rate)

    def send(self, command: dict[str, object]) -> None:
        self.channel.send(msgspec.json.encode(command).decode())

    def _on_message(self, message: str | bytes) -> None:
        with contextlib.suppress(msgspec.ValidationError, msgspec.DecodeError):
            event = decode(message)
            self.received.events.append((time.monotonic(), event))
            if type(event).__name__ == "EndedEvent":
                self.ended.set()

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                now = time.monotonic()
                if isinstance(frame, av.AudioFrame):
                    self._heard(now, frame)
                elif isinstance(frame, av.VideoFrame):
                    self._seen(now, frame)

    def _heard(self, now: float, frame: av.AudioFrame) -> None:
        mono = frame_to_mono(frame)
        if frame.sample_rate != RATE:
            mono = IntResampler(frame.sample_rate, RATE).convert(mono)
        level = mono.astype(np.float32)
        if frame.pts is not None:
            self.received.audio_stamps.append((now, int(frame.pts)))
        self.received.audio_levels.append(
            (now, int(np.abs(mono).max(initial=0)), float(np.sqrt(np.mean(level * level))))
        )
        if self.keep_media:
            self.received.audio.append((now, mono))
        if self.writer is not None:
            if self._audio_pts is None:
                self._audio_pts = round(self._since_origin(now) * RATE)
            self.writer.add_audio(mono, self._audio_pts)
            self._audio_pts += len(mono)

    def _seen(self, now: float, frame: av.VideoFrame) -> None:
        image = frame.to_ndarray(format="rgb24")
        if frame.pts is not None:
            self.received.video_stamps.append((now, int(frame.pts)))
        small = image[::8, ::8].astype(np.float32).mean(axis=2)
        if self._previous is not None and self._previous.shape == small.shape:
            self.received.video_motion.append((now, float(np.abs(small - self._previous).mean())))
        self._previous = small
        self.received.video_frames += 1
        self.received.video_size = (image.shape[1], image.shape[0])
        if self.keep_media:
            self.received.video.append((now, image))
        if self.writer is not None:
            self._video_index = (
                round(self._since_origin(now) * 25) if self._video_index is None else self._video_index + 1
            )
            self.writer.add_video(image, self._video_index)

    def _since_origin(self, now: float) -> float:
        if self._origin is None:
            self._origin = now
        return now - self._origin

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.mic.stop()
        await self.pc.close()
        if self.writer is not None:
            await self.writer.close()
