"""The server's side of one call: answers the offer, wires mic -> session -> avatar tracks, events.

The client opens a data channel; the server sends the session's events on it (captions, state,
emotion) and takes a few commands back (`end`, `record`). Losing the connection ends the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import av
from aiortc import RTCDataChannel, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.exceptions import InvalidAccessError
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from server.errors import BadInput
from server.pipeline.audio import IntResampler
from server.pipeline.events import CallEvent, EndedEvent, ErrorEvent, Event, StateEvent, encode
from server.pipeline.session import CallSession
from server.pipeline.tasks import cancel_and_wait
from server.rtc.clock import MediaClock
from server.rtc.frames import frame_to_mono
from server.rtc.ice import keep_loopback_candidates, rtc_configuration, use_loopback
from server.rtc.offers import check_offer
from server.rtc.recorder import CallRecorder
from server.rtc.tracks import AvatarAudioTrack, AvatarVideoTrack

log = logging.getLogger(__name__)

MIC_RATE = 16000
PREFERRED_VIDEO = ("video/VP8", "video/rtx")
MIC_PREFETCH = 1  # 20 ms packets the mic's jitter buffer holds back (aiortc's default: 4, 80 ms)


def quicken_mic(pc: RTCPeerConnection, track: MediaStreamTrack, prefetch: int = MIC_PREFETCH) -> bool:
    """Let the user's voice through aiortc's audio jitter buffer after `prefetch` packets, not 4.

    The mic feeds the endpointer and speech recognition, not a loudspeaker: a rare late packet
    costs less there than 60 ms more before every reply. aiortc has no setting for it, so this
    reaches into the receiver (pinned aiortc version); False if its layout changed.
    """
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        if receiver is not None and receiver.track is track:
            buffer = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
            if buffer is not None and hasattr(buffer, "_prefetch"):
                buffer._prefetch = prefetch
                return True
    log.warning("could not shorten the mic's jitter buffer (aiortc changed?)")
    return False


class CallPeer:
    """One RTCPeerConnection bound to one CallSession; `close()` ends both, once."""

    def __init__(
        self,
        session: CallSession,
        *,
        call_id: int | None = None,
        ice_servers: tuple[str, ...] = (),
        loopback: bool = False,
        size: tuple[int, int] = (512, 512),
        recording_path: Path | None = None,
        on_closed: Callable[[CallPeer], Awaitable[None]] | None = None,
        connect_timeout_s: float = 20.0,
    ) -> None:
        self.session, self.call_id, self.loopback, self.size = session, call_id, loopback, size
        self.recording_path = recording_path
        self.on_closed = on_closed
        if loopback:
            use_loopback()
        self.pc = RTCPeerConnection(rtc_configuration(ice_servers))
        self.clock = MediaClock()
        self.audio = AvatarAudioTrack(session, self.clock)
        self.video = AvatarVideoTrack(session, self.clock, size)
        self.recorder: CallRecorder | None = None
        self.recorded: Path | None = None  # the finished recording, if any
        self.channel: RTCDataChannel | None = None
        self._unsent: list[Event] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing: asyncio.Task[None] | None = None
        self.connect_timeout_s = connect_timeout_s
        self.connected = asyncio.Event()
        session.listeners.append(self._send_event)

    async def answer(self, sdp: str, kind: str = "offer") -> RTCSessionDescription:
        """Take the client's offer; return the answer with every local candidate in it."""
        if kind != "offer":
            raise BadInput(f"expected an SDP offer, got {kind!r}")
        check_offer(sdp)
        if self.loopback:
            sdp = keep_loopback_candidates(sdp)
        self.pc.on("track", self._on_track)
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("connectionstatechange", self._on_state)
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            self.pc.addTrack(self.audio)
            self.pc.addTrack(self.video)
            codecs = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType in PREFERRED_VIDEO]
            for transceiver in self.pc.getTransceivers():
                if transceiver.kind == "video":
                    transceiver.setCodecPreferences(codecs)
            await self.pc.setLocalDescription(await self.pc.createAnswer())
        except (
            ValueError,
            KeyError,
            IndexError,
            InvalidAccessError,
        ) as exc:  # what aiortc raises for offers it cannot take
            log.info("call %s: the offer could not be answered: %r", self.call_id, exc)
            raise BadInput(
                "the call offer could not be answered", hint="offer audio and video (receive-only video is fine)"
            ) from exc
        return self.pc.localDescription

    # -- recording -----------------------------------------------------------------------------

    def start_recording(self) -> bool:
        if self.recorder is not None or self.recording_path is None:
            return self.recorder is not None
        self.recorder = CallRecorder(self.recording_path, self.size, first_index=self.video.index)
        self.audio.tap = self.video.tap = self.recorder
        return True

    async def stop_recording(self) -> Path | None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        self.audio.tap = self.video.tap = None
        try:
            self.recorded = await recorder.close()
        except Exception:  # a failed recording (disk full, its folder deleted) never stops the call's end
            log.exception("call %s: the recording could not be finished", self.call_id)
            self.recorded = None
        return self.recorded

    # -- events --------------------------------------------------------------------------------

    def _send_event(self, event: Event) -> None:
        if isinstance(event, ErrorEvent) and event.fatal:
            self._spawn(self.close("ended by the server"))
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(encode(event))
        elif not isinstance(event, EndedEvent):
            self._unsent.append(event)

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        self.channel = channel

        def opened() -> None:
            channel.send(encode(CallEvent(call_id=self.call_id, recording=self.recorder is not None)))
            channel.send(encode(StateEvent(state=self.session.state)))
            for event in self._unsent:
                if not isinstance(event, StateEvent):  # superseded by the current state just sent
                    channel.send(encode(event))
            self._unsent.clear()

        if channel.readyState == "open":
            opened()
        else:
            channel.on("open", opened)
        channel.on("message", self._on_message)
        channel.on("close", lambda: self._spawn(self.close("hung up")))

    def _on_message(self, message: str | bytes) -> None:
        try:
            command = json.loads(message)
        except (ValueError, TypeError):
            return
        kind = command.get("type") if isinstance(command, dict) else None
        if kind == "end":
            self._spawn(self.close(str(command.get("reason") or "hung up")))
        elif kind == "record":
            if command.get("on", True):
                started = self.start_recording()
                self._send_event(CallEvent(call_id=self.call_id, recording=started))
            else:
                self._spawn(self.stop_recording())
        elif kind == "say" and isinstance(command.get("text"), str):
            self.session.say(_printable(command["text"]))

    # -- media in ------------------------------------------------------------------------------

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            quicken_mic(self.pc, track)
        self._spawn(self._hear(track) if track.kind == "audio" else self._watch(track))

    async def _hear(self, track: MediaStreamTrack) -> None:
        """The user's mic -> 16 kHz mono -> the session's endpointer (and the recording)."""
        to_16k: IntResampler | None = None
        to_48k: IntResampler | None = None
        try:
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                mono = frame_to_mono(frame)
                if to_16k is None or to_16k.src_rate != frame.sample_rate:
                    to_16k = IntResampler(frame.sample_rate, MIC_RATE)
                    to_48k = IntResampler(frame.sample_rate, 48000) if frame.sample_rate != 48000 else None
                self.session.feed_mic(to_16k.convert(mono))
                if self.recorder is not None:
                    self.recorder.user_audio(to_48k.convert(mono) if to_48k is not None else mono)
        except MediaStreamError:
            return

    async def _watch(self, track: MediaStreamTrack) -> None:
        """The user's camera: into the recording's corner while recording; read either way so
        aiortc's queue stays empty."""
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if self.recorder is not None and isinstance(frame, av.VideoFrame):
                    self.recorder.user_video(frame)

    # -- lifecycle -----------------------------------------------------------------------------

    async def _on_state(self) -> None:
        if self.pc.connectionState == "connected":
            self.connected.set()
        if self.pc.connectionState in ("failed", "closed"):
            self._spawn(self.close("disconnected" if self.pc.connectionState == "failed" else "hung up"))

    def watch_connection(self) -> None:
        """End the call if the client never connects (an offer without reachable candidates would
        otherwise hold its backends and memory until the server stops)."""

        async def watchdog() -> None:
            try:
                await asyncio.wait_for(self.connected.wait(), self.connect_timeout_s)
            except TimeoutError:
                log.info("call %s: the client did not connect within %.0f s", self.call_id, self.connect_timeout_s)
                self._spawn(self.close("could not connect"))

        self._spawn(watchdog())

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self, reason: str = "ended") -> asyncio.Task[None]:
        """End the call (idempotent); awaiting the returned task waits until it is fully closed."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close(reason))
        return self._closing

    async def _close(self, reason: str) -> None:
        try:
            await self.session.close(reason)
            await self.stop_recording()
        finally:
            self.audio.stop()
            self.video.stop()
            await self.pc.close()
            current = asyncio.current_task()
            for task in list(self._tasks):
                if task is not current and not task.done():
                    await cancel_and_wait(task)
            if self.on_closed is not None:
                await self.on_closed(self)


def _printable(text: str) -> str:
    """Typed text without control or bidi-override characters (a newline becomes a space)."""
    import unicodedata

    return "".join(
        " " if c in "\n\r\t" else c for c in text if c in "\n\r\t" or unicodedata.category(c) not in ("Cc", "Cf")
    )
