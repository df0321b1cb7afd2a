"""The call: the avatar filling the screen, our camera small, captions, state, emotion, controls.

The screen owns one call while it is shown. Its media runs on the app's media thread
(mobile/rtc/thread.py), so a busy screen cannot starve it; every call event comes back to the UI
thread into `on_call_event`, which only sets properties (the KV rules do the drawing).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import av
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, StringProperty

from mobile.errors import AppError, SessionExpired
from mobile.rtc.call import CallClient, CallOptions
from mobile.rtc.events import (
    CallEnded,
    CallEvent,
    CallInfo,
    Caption,
    Connection,
    CrisisBanner,
    EmotionChanged,
    Notice,
    StateChanged,
)
from mobile.rtc.media import media_spec, open_source
from mobile.rtc.sinks import AudioOutput, default_audio_output
from mobile.rtc.thread import ThreadedCall, UiFrames, UiLoopApi, ui_events
from mobile.rtc.tracks import CameraTrack, MicTrack
from mobile.screens.base import BaseScreen

Builder.load_file(str(Path(__file__).with_name("call.kv")))

STATE_LABELS = {
    "listening": "Listening",
    "thinking": "Thinking…",
    "speaking": "Speaking",
    "idle": "Here",
    "ready": "Getting ready…",
}
STATE_COLORS = {
    "listening": (0.30, 0.70, 0.45, 0.9),
    "thinking": (0.85, 0.65, 0.20, 0.9),
    "speaking": (0.36, 0.62, 0.90, 0.9),
    "idle": (0.3, 0.3, 0.3, 0.8),
    "ready": (0.3, 0.3, 0.3, 0.8),
}
CONNECTION_TEXT = {
    "connecting": "Connecting…",
    "reconnecting": "Connection lost. Reconnecting…",
    "connected": "",
}


class CallScreen(BaseScreen):
    avatar_name = StringProperty("")
    state = StringProperty("idle")
    state_text = StringProperty("Connecting")
    state_color = ListProperty([0.3, 0.3, 0.3, 0.8])
    emotion = StringProperty("")
    user_caption = StringProperty("")
    avatar_caption = StringProperty("")
    crisis_text = StringProperty("")
    connection_text = StringProperty("")
    muted = BooleanProperty(False)
    camera_on = BooleanProperty(False)
    has_camera = BooleanProperty(False)
    recording = BooleanProperty(False)
    can_redial = BooleanProperty(False)  # the call was lost for good: offer to call again
    audio_warning = StringProperty("")  # no speaker: said on screen, not only in the log
    typed = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client: ThreadedCall | None = None
        self.audio_output: AudioOutput | None = None
        self.events: list[CallEvent] = []

    def refresh(self) -> None:
        avatar = self.app.current_avatar
        if avatar is None or self.app.api is None:
            self.app.go("gallery")
            return
        self._reset(avatar.name)
        self.app.spawn(self.start_call(avatar.id))

    def _reset(self, name: str) -> None:
        self.avatar_name = name
        self.state, self.state_text, self.emotion = "idle", "Connecting", ""
        self.user_caption = self.avatar_caption = self.crisis_text = ""
        self.connection_text = CONNECTION_TEXT["connecting"]
        self.muted = self.recording = self.can_redial = False
        self.audio_warning = ""
        self.events = []
        self.ids.remote.clear()
        self.ids.local.clear()

    async def start_call(
        self, avatar_id: int, *, audio_output: AudioOutput | None = None, options: CallOptions | None = None
    ) -> None:
        """Open the camera and mic, dial, and show what comes back; errors go on screen."""
        try:
            mic = MicTrack(open_source(media_spec("audio"), "audio"), lead_s=_lead_seconds())
            camera_source = open_source(media_spec("video"), "video")
        except AppError as exc:
            self.connection_text = exc.message
            return
        remote, preview = UiFrames(self.ids.remote), UiFrames(self.ids.local)
        self._preview_frames = preview
        camera = CameraTrack(camera_source, on_preview=self._preview) if camera_source is not None else None
        self.has_camera = self.camera_on = camera is not None
        self.audio_output = audio_output or default_audio_output()
        missing = getattr(self.audio_output, "missing", "")
        if missing:
            self.audio_warning = (
                f"No sound output found: you will not hear {self.avatar_name}. Check the speaker or headphones."
            )
        media = self.app.media_thread()
        client = CallClient(
            UiLoopApi(self.api, asyncio.get_running_loop()),
            avatar_id,
            mic=mic,
            camera=camera,
            video_target=remote,
            audio_output=self.audio_output,
            on_event=ui_events(self.on_call_event),
            options=options,
        )
        self.client = ThreadedCall(media, client)
        self.app.last_call_id = None
        try:
            await self.client.start()
            self.app.last_call_id = self.client.call_id
        except AppError as exc:
            self.connection_text = f"{exc.message}\nCheck that the server is running and reachable, then try again."
            self.can_redial = True
            await self.hang_up("connect_failed")
            if isinstance(exc, SessionExpired):
                self.app.session_expired(exc.message)

    def _preview(self, frame: av.VideoFrame) -> None:  # on the media thread
        self._preview_frames.show(frame.to_ndarray(format="rgb24"))

    def on_call_event(self, event: CallEvent) -> None:
        self.events.append(event)
        if isinstance(event, Caption):
            if event.role == "user":
                self.user_caption = event.text
            else:
                self.avatar_caption = event.text
        elif isinstance(event, StateChanged):
            self.state = event.state
            self.state_text = STATE_LABELS.get(event.state, event.state.capitalize())
            self.state_color = list(STATE_COLORS.get(event.state, STATE_COLORS["idle"]))
        elif isinstance(event, EmotionChanged):
            self.emotion = event.emotion
        elif isinstance(event, CrisisBanner):
            lines = "\n".join(
                " · ".join(p for p in (line.name, line.phone, line.url, line.text) if p) for line in event.lines
            )
            self.crisis_text = f"{event.message}\n{lines}".strip()
        elif isinstance(event, Connection):
            if event.status == "connected" and self.state_text == "Connecting":
                self.state_text = f"{self.avatar_name} is getting ready…"
                self.state_color = list(STATE_COLORS["ready"])
            if event.status == "failed":
                self.connection_text = "The call was lost and could not be reconnected."
                self.can_redial = True
            else:
                self.connection_text = CONNECTION_TEXT.get(event.status, "")
            if self.client is not None and self.client.call_id is not None:
                self.app.last_call_id = self.client.call_id
        elif isinstance(event, CallInfo):
            self.recording = event.recording
        elif isinstance(event, Notice):
            self.connection_text = event.text
        elif isinstance(event, CallEnded) and event.reason not in ("user_hangup", "connect_failed"):
            self.connection_text = "The call has ended."

    # -- controls ---------------------------------------------------------------------------
    def toggle_mute(self) -> None:
        self.muted = not self.muted
        if self.client is not None:
            self.client.mic.muted = self.muted

    def toggle_camera(self) -> None:
        if self.client is not None and self.client.camera is not None:
            self.camera_on = not self.camera_on
            self.client.camera.enabled = self.camera_on

    def toggle_recording(self) -> None:
        if self.client is not None:
            self.recording = not self.recording
            self.app.spawn(self.client.set_recording(self.recording))

    def send_typed(self, text: str) -> None:
        """What the person typed instead of speaking: said to the avatar like a spoken turn."""
        text = " ".join(text.split())
        if text and self.client is not None:
            self.client.send({"type": "say", "text": text[:1000]})
            self.typed = ""

    def redial(self) -> None:
        """Call the same person again after a lost call."""
        self.app.spawn(self._redial())

    async def _redial(self) -> None:
        await self.hang_up("redial")
        self.refresh()

    def end_call(self) -> None:
        self.app.spawn(self._end_and_rate())

    async def _end_and_rate(self) -> None:
        call_id = self.client.call_id if self.client is not None else None
        await self.hang_up()
        self.app.last_call_id = call_id
        self.app.go("rating" if call_id is not None else "gallery")

    async def hang_up(self, reason: str = "user_hangup") -> None:
        client, self.client = self.client, None
        if client is not None:
            await client.hang_up(reason)


def _lead_seconds() -> float:
    """Silence before a file-backed mic starts (tests): lets the server's pipeline settle first."""
    try:
        return float(os.environ.get("MEMORIA_APP_MIC_LEAD_S", "0"))
    except ValueError:
        return 0.0
