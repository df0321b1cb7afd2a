"""Each screen rendered for real (Kivy under Xvfb, GraphicUnitTest) on a phone in portrait and a
tablet in landscape: touch targets big enough, on screen and apart; the state a person sees
follows the data; screenshots go to artifacts/mobile/."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import HAVE_DISPLAY

pytest.importorskip("kivy", reason="the app's extra is not installed (pip install -e '.[app]')")
if not HAVE_DISPLAY:
    pytest.skip("needs an X display or Xvfb (apt-get install xvfb)", allow_module_level=True)

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics.texture import Texture
from kivy.tests.common import GraphicUnitTest
from skimage import data as skdata

from mobile.main import MemoriaApp
from mobile.models import Avatar, CallRecord, Memory, Message, Personality, Photo, VoiceSample
from mobile.rtc.events import Caption, Connection, CrisisBanner, CrisisLine, EmotionChanged, StateChanged
from mobile.screens.avatar_edit import AvatarEditScreen
from mobile.screens.call import CallScreen
from mobile.screens.gallery import GalleryScreen
from mobile.screens.history import HistoryScreen
from mobile.screens.login import LoginScreen
from mobile.screens.rating import RatingScreen
from mobile.screens.transcript import TranscriptScreen

from .layout import PHONE, TABLET, check_touch_targets, save_screenshot

ROSE = Avatar(id=1, name="Rose", relationship="my grandmother", user_name="pet", primary_photo_id=11)
ARTHUR = Avatar(id=2, name="Arthur", relationship="my father")


def face() -> np.ndarray:
    """A real photo of a face (skimage's astronaut), cropped to the head."""
    return np.ascontiguousarray(skdata.astronaut()[0:300, 120:360])


def texture_of(rgb: np.ndarray) -> Texture:
    texture = Texture.create(size=(rgb.shape[1], rgb.shape[0]), colorfmt="rgb")
    texture.flip_vertical()
    texture.blit_buffer(rgb.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
    return texture


# One app for the module: KV's `app` proxy binds to the first running app it sees.
APP = MemoriaApp()


class ScreenCase(GraphicUnitTest):
    """Renders screens inside a MemoriaApp that is 'running' without a server."""

    def setUp(self) -> None:
        super().setUp()
        self.app = APP
        App._running_app = APP  # KV rules read `app.portrait`, `app.prefs`
        APP.api = None
        APP.current_avatar = None

    def show(self, screen: object, size: tuple[int, int], name: str) -> None:
        """Render at `size` (dp), check its touch targets, and save a screenshot."""
        self.clear_window_and_event_loop()
        Window.size = size
        self.app.portrait = size[1] >= size[0]
        redraw = Clock.schedule_interval(
            lambda _dt: Window.canvas.ask_update(), 0
        )  # an unchanged screen flips no frames
        try:
            self.render(screen, framecount=10)
            self.clear_window_and_event_loop()  # a second pass: rules that read a new size settle
            self.render(screen, framecount=4)
        finally:
            redraw.cancel()
        save_screenshot(name)
        assert check_touch_targets(screen, size) == []  # type: ignore[arg-type]

    def test_login(self) -> None:
        screen = LoginScreen()
        for size, name in ((PHONE, "login_phone"), (TABLET, "login_tablet")):
            self.show(screen, size, name)
        # on a tablet the form stays a readable column instead of stretching across
        assert screen.ids.email.width <= 520
        screen.ids.email.text = ""
        screen.submit(register=False)
        assert screen.ids.status.error and "email" in screen.ids.status.text.lower()
        screen.ids.email.text, screen.ids.password.text = "me@example.org", "short"
        screen.submit(register=True)
        assert "8 characters" in screen.ids.status.text

    def test_gallery(self) -> None:
        screen = GalleryScreen()
        screen.show([])
        self.show(screen, PHONE, "gallery_empty_phone")
        assert screen.empty and "No one here yet" in screen.ids.empty.text
        screen.show([ROSE, ARTHUR])
        screen.ids.grid.children[-1].ids.photo.texture = texture_of(face())
        self.show(screen, PHONE, "gallery_phone")
        assert screen.ids.grid.cols == 1
        self.show(screen, TABLET, "gallery_tablet")
        assert screen.ids.grid.cols >= 3
        column = (TABLET[0] - 24 - 12 * (screen.ids.grid.cols - 1)) / screen.ids.grid.cols
        assert [card.width for card in screen.ids.grid.children] == pytest.approx([column, column])  # not stretched
        names = sorted(card.avatar.name for card in screen.ids.grid.children)
        assert names == ["Arthur", "Rose"]

    def test_avatar_edit_new(self) -> None:
        screen = AvatarEditScreen()
        self.app.current_avatar = None
        screen.refresh()
        self.show(screen, PHONE, "avatar_new_phone")
        assert screen.creating and screen.ids.consent_box.height > 0
        assert "right to use this person's likeness and voice" in screen.ids.consent_text.text
        screen.ids.name.text, screen.ids.relationship.text = "Rose", "my grandmother"
        screen.save()  # consent not ticked: nothing is sent, the person is told why
        assert screen.ids.status.error and "I agree" in screen.ids.status.text
        assert screen.avatar is None

    def test_avatar_edit_existing(self) -> None:
        screen = AvatarEditScreen()
        self.app.current_avatar = ROSE
        screen.avatar = ROSE
        screen.creating = False
        screen._fill_about(ROSE)
        screen.show_photos([Photo(id=11, is_primary=True), Photo(id=12)])
        screen.ids.photos.children[-1].ids.image.texture = texture_of(face())
        screen.show_voices([VoiceSample(id=1, duration_s=12.4, original_name="birthday-message.m4a")])
        screen.show_personality(Personality("warm, teasing", "short sentences", ["Put the kettle on, love."]))
        screen.show_memories(
            [Memory(id=1, text="We went to the sea every August."), Memory(id=2, text="She grew tomatoes.")]
        )
        screen.ids.meter.level = 0.4
        self.show(screen, PHONE, "avatar_edit_phone")
        assert screen.ids.consent_box.height == 0 and screen.ids.save.text == "Save changes"
        assert [t.primary for t in reversed(screen.ids.photos.children)] == [True, False]
        assert screen.ids.phrases.text == "Put the kettle on, love."
        assert len(screen.ids.memories.children) == 2
        self.show(screen, TABLET, "avatar_edit_tablet")
        assert screen.ids.form.orientation == "horizontal"

    def test_call(self) -> None:
        screen = CallScreen()
        screen._reset("Rose")
        for event in (
            Connection("connected"),
            StateChanged("speaking"),
            EmotionChanged("happy"),
            Caption("user", "Do you remember the sea?"),
            Caption("avatar", "Of course, pet. Every August."),
        ):
            screen.on_call_event(event)
        screen.ids.remote.show(face())
        screen.ids.local.show(np.full((240, 180, 3), 90, np.uint8))
        screen.camera_on = screen.has_camera = True
        self.show(screen, PHONE, "call_phone")
        assert screen.state_text == "Speaking" and screen.emotion == "happy"
        assert screen.avatar_caption == "Of course, pet. Every August."
        assert screen.ids.remote.frames_shown == 1 and screen.ids.remote.texture.size == (240, 300)
        assert screen.connection_text == "" and screen.crisis_text == ""
        assert screen.ids.controls.orientation == "horizontal"

        screen.on_call_event(CrisisBanner("Please talk to someone now.", (CrisisLine("Samaritans", "116 123"),)))
        self.show(screen, TABLET, "call_crisis_tablet")
        assert "116 123" in screen.crisis_text and screen.ids.crisis.opacity == 1
        assert screen.ids.controls.orientation == "vertical"
        screen.on_call_event(Connection("reconnecting", "network changed"))
        assert "Reconnecting" in screen.connection_text

    def test_call_lost_no_speaker_and_typing(self) -> None:
        screen = CallScreen()
        screen._reset("Rose")
        assert screen.ids.redial.opacity == 0 and not screen.can_redial
        screen.on_call_event(Connection("connected"))
        assert screen.state_text == "Rose is getting ready…"  # until her first state arrives
        screen.on_call_event(Connection("failed", "The call could not be connected."))
        screen.audio_warning = "No sound output found: you will not hear Rose. Check the speaker or headphones."
        self.show(screen, PHONE, "call_lost_phone")
        assert screen.can_redial and screen.ids.redial.text == "Call Rose again" and screen.ids.redial.opacity == 1
        assert "could not be reconnected" in screen.connection_text
        assert screen.ids.audio_warning.opacity == 1

        sent: list[dict[str, object]] = []

        class Client:  # what the screen holds during a call
            def send(self, message: dict[str, object]) -> None:
                sent.append(message)

        screen.client = Client()  # type: ignore[assignment]
        screen.ids.typed.text = "  I miss   you  "
        screen.send_typed(screen.ids.typed.text)
        assert sent == [{"type": "say", "text": "I miss you"}] and screen.typed == ""
        screen.client = None

    def test_rating(self) -> None:
        screen = RatingScreen()
        self.show(screen, PHONE, "rating_phone")
        assert screen.ids.submit.disabled
        screen.stars = 4
        self.show(screen, PHONE, "rating_4_phone")
        assert not screen.ids.submit.disabled

    def test_history_and_transcript(self) -> None:
        calls = [
            CallRecord(
                id=1,
                avatar_id=1,
                avatar_name="Rose",
                started_at="2026-03-02T14:05:00",
                ended_at="2026-03-02T14:12:30",
                total_exchanges=6,
                user_satisfaction=5,
            ),
            CallRecord(
                id=2, avatar_id=2, avatar_name="Arthur", started_at="2026-03-04T09:00:00", ended_at=None, live=True
            ),
        ]
        history = HistoryScreen()
        history.show(calls)
        self.show(history, PHONE, "history_phone")
        rows = list(reversed(history.ids.rows.children))
        assert [r.call.id for r in rows] == [2, 1]  # newest first
        assert rows[1].detail == "7 min 30 s  ·  6 exchanges  ·  rated 5/5"
        assert rows[0].detail == "in progress  ·  0 exchanges"

        transcript = TranscriptScreen()
        transcript.show(
            [
                Message("user", "Hi Nan. I miss you."),
                Message("avatar", "I'm here, pet. Tell me about your day.", emotion="happy"),
                Message("user", "Hard. I don't want to be here any more."),
                Message("avatar", "Oh love. Please talk to someone right now.", flags={"crisis": True}),
            ]
        )
        self.show(transcript, PHONE, "transcript_phone")
        bubbles = list(reversed(transcript.ids.messages.children))
        assert [b.mine for b in bubbles] == [True, False, True, False]
        assert bubbles[3].flagged
        # Back leads from the history to the gallery, and from a transcript to the history.
        went: list[str] = []
        APP.go = lambda screen, avatar=None: went.append(screen)  # type: ignore[method-assign]
        try:
            for screen in (history, transcript):
                back = next(w for w in screen.walk() if getattr(w, "text", None) == "Back")
                back.dispatch("on_release")
        finally:
            del APP.go
        assert went == ["gallery", "history"]


def teardown_module() -> None:
    """Let KV's `app` proxy forget APP, so a real app started later in this process is seen."""
    APP.dispatch("on_stop")
    App._running_app = None
