"""One call from the app: offer, answer, media both ways, data-channel events, reconnection.

Runs on the same asyncio loop as Kivy (`App.async_run`), so sinks draw straight to textures.
aiortc cannot restart ICE, so "reconnect" means a fresh peer connection and a fresh offer for
the same avatar; the server sees a new call row and the screen keeps its captions.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from mobile.api import ApiClient
from mobile.errors import AppError, CallFailed, SessionExpired
from mobile.rtc.events import CallEnded, CallEvent, Connection, parse_message
from mobile.rtc.sinks import AudioOutput, AudioSink, FrameTarget, VideoSink, drain
from mobile.rtc.tracks import CameraTrack, MicTrack

log = logging.getLogger(__name__)

DATA_CHANNEL = "events"


@dataclass
class CallOptions:
    """Knobs of a call; the defaults are what a phone on a home network wants."""

    ice_servers: tuple[str, ...] = ()
    video_codec: str = "video/VP8"
    reconnect_attempts: int = 3
    reconnect_delay_s: float = 1.0
    disconnected_grace_s: float = 4.0
    # the server sends audio (silence too) every 20 ms: none for this long means the connection is
    # dead even if ICE has not noticed yet (its consent checks take ~30 s)
    media_timeout_s: float = 4.0
    extra: dict[str, str] = field(default_factory=dict)


class CallClient:
    """Places a call to one avatar and keeps it up until `hang_up()`."""

    def __init__(
        self,
        api: ApiClient,
        avatar_id: int,
        *,
        mic: MicTrack,
        camera: CameraTrack | None,
        video_target: FrameTarget,
        audio_output: AudioOutput,
        on_event: Callable[[CallEvent], None],
        options: CallOptions | None = None,
    ) -> None:
        self.api = api
        self.avatar_id = avatar_id
        self.mic = mic
        self.camera = camera
        self.on_event = on_event
        self.options = options or CallOptions()
        self.video = VideoSink(video_target)
        self.audio = AudioSink(audio_output)
        self.call_ids: list[int] = []
        self.recording = False
        self._pc: RTCPeerConnection | None = None
        self._channel: object | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._watchdog: asyncio.Task[None] | None = None
        self._media_watch: asyncio.Task[None] | None = None
        self._jobs: set[asyncio.Task[None]] = set()  # redials; cancelled by hang_up
        self._closed = False

    @property
    def call_id(self) -> int | None:
        return self.call_ids[-1] if self.call_ids else None

    @property
    def connection_state(self) -> str:
        return self._pc.connectionState if self._pc is not None else "closed"

    async def start(self) -> None:
        """Connect, retrying a few times; raises AppError with a message for the person."""
        self._emit(Connection("connecting"))
        await self._connect_with_retries()

    async def network_changed(self) -> None:
        """The phone switched networks (Wi-Fi <-> mobile data): our ICE path is gone, so redial."""
        if not self._closed:
            await asyncio.wait({self._job(self._reconnect("network changed"))})  # hang_up may cancel it

    async def set_recording(self, on: bool) -> None:
        """Ask the server to record the call (both sides) to a file it keeps with the call."""
        self.recording = on
        self.send({"type": "record", "on": on})

    def send(self, message: dict[str, object]) -> bool:
        channel = self._channel
        if channel is not None and getattr(channel, "readyState", "") == "open":
            channel.send(json.dumps(message))  # type: ignore[attr-defined]
            return True
        return False

    async def hang_up(self, reason: str = "user_hangup") -> None:
        """End the call on the server and here; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        current = asyncio.current_task()
        watchers = (*self._jobs, self._watchdog, self._media_watch)
        for job in [j for j in watchers if j is not None and j is not current]:
            await drain(job)  # a redial in flight must not open a new connection after this
        try:
            if self.call_id is not None:
                try:
                    await self.api.end_call(self.call_id)
                except AppError as exc:  # the server ends the row itself when the peer goes away
                    log.info("end call: %s", exc.message)
        finally:
            await self._teardown()
            self.mic.stop()
            self.audio.output.close()
            if self.camera is not None:
                self.camera.stop()
            self._emit(CallEnded(reason=reason))

    # -- internals ------------------------------------------------------------------------
    async def _connect_with_retries(self) -> None:
        last: AppError | None = None
        for attempt in range(self.options.reconnect_attempts):
            if self._closed:
                return
            try:
                await self._connect()
                return
            except SessionExpired:
                raise
            except AppError as exc:
                last = exc
                log.info("call attempt %d failed: %s", attempt + 1, exc.message)
                await self._teardown()
                await asyncio.sleep(self.options.reconnect_delay_s * (attempt + 1))
        raise CallFailed(last.message if last else "The call could not be connected.")

    async def _connect(self) -> None:
        self.audio.last_audio_at = None  # a new connection: nothing heard on it yet
        config = RTCConfiguration(iceServers=await self._ice_servers())
        pc = RTCPeerConnection(config)
        self._pc = pc
        channel = pc.createDataChannel(DATA_CHANNEL)
        self._channel = channel
        channel.on("message", self._on_message)
        channel.on("open", lambda: self.recording and self.send({"type": "record", "on": True}))
        pc.addTransceiver(self.mic, direction="sendrecv")
        video = pc.addTransceiver(
            self.camera if self.camera is not None else "video", direction="sendrecv" if self.camera else "recvonly"
        )
        codecs = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == self.options.video_codec]
        if codecs:
            video.setCodecPreferences(codecs)
        pc.on("track", self._on_track)
        pc.on("connectionstatechange", self._on_state)
        await pc.setLocalDescription(await pc.createOffer())
        answer = await self.api.offer(self.avatar_id, pc.localDescription.sdp, pc.localDescription.type)
        self.call_ids.append(answer.call_id)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type=answer.type))

    async def _ice_servers(self) -> list[RTCIceServer]:
        """The configured servers, else the server's own list (GET /calls/ice: TURN for calls from
        outside the house); none if it cannot be had (a call at home needs none)."""
        if self.options.ice_servers:
            return [RTCIceServer(urls=url) for url in self.options.ice_servers]
        fetch = getattr(self.api, "ice_servers", None)
        if fetch is None:
            return []
        try:
            entries = await fetch()
        except AppError as exc:
            log.info("no ICE servers from the server: %s", exc.message)
            return []
        return [
            RTCIceServer(urls=e["urls"], username=e.get("username"), credential=e.get("credential")) for e in entries
        ]

    def _on_track(self, track: MediaStreamTrack) -> None:
        sink = self.video.run(track) if track.kind == "video" else self.audio.run(track)
        task = asyncio.ensure_future(sink)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_message(self, message: str | bytes) -> None:
        event = parse_message(message)
        if event is not None:
            self._emit(event)

    async def _on_state(self) -> None:
        pc = self._pc
        if pc is None or self._closed:
            return
        state = pc.connectionState
        if state == "connected":
            self._emit(Connection("connected"))
            if self._media_watch is None or self._media_watch.done():
                self._media_watch = asyncio.ensure_future(self._watch_media(pc))
        elif state == "failed":
            self._job(self._reconnect("connection failed"))
        elif state == "disconnected" and self._watchdog is None:
            self._watchdog = asyncio.ensure_future(self._wait_then_reconnect(pc))

    def _job(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        job = asyncio.ensure_future(work)
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)
        return job

    async def _wait_then_reconnect(self, pc: RTCPeerConnection) -> None:
        try:
            await asyncio.sleep(self.options.disconnected_grace_s)
            if pc is self._pc and pc.connectionState in ("disconnected", "failed"):
                await self._reconnect("connection lost")
        finally:
            self._watchdog = None

    async def _watch_media(self, pc: RTCPeerConnection) -> None:
        """Redial when the avatar's audio stops arriving (after it once did) on this connection."""
        timeout = self.options.media_timeout_s
        started = time.monotonic()
        while pc is self._pc and not self._closed:
            await asyncio.sleep(min(1.0, timeout / 4))
            heard = self.audio.last_audio_at
            silent_for = time.monotonic() - (heard if heard is not None else started)
            if pc is self._pc and silent_for > (timeout if heard is not None else 3 * timeout):
                log.warning("no audio from the server for %.1f s: redialling", silent_for)
                self._job(self._reconnect("no media"))
                return

    async def _reconnect(self, why: str) -> None:
        if self._closed:
            return
        self._emit(Connection("reconnecting", why))
        old_call = self.call_id
        await self._teardown()
        if old_call is not None:
            try:
                await self.api.end_call(old_call)
            except AppError:
                pass
        try:
            await self._connect_with_retries()
        except AppError as exc:
            self._emit(Connection("failed", exc.message))

    async def _teardown(self) -> None:
        """Close the peer connection; our local tracks survive it (aiortc never stops them)."""
        pc, self._pc, self._channel = self._pc, None, None
        for task in list(self._tasks):
            await drain(task)
        if pc is not None:
            await pc.close()

    def _emit(self, event: CallEvent) -> None:
        try:
            self.on_event(event)
        except Exception:  # a screen bug must not take the call down
            log.exception("call event handler failed on %r", event)
