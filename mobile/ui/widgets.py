"""Small widgets every screen uses: big touch buttons, form fields, a level meter, a video view.

Touch targets are at least 48 dp high (Android's guideline); text scales with sp.
"""

from __future__ import annotations

import numpy as np
from kivy.graphics import Color, Rectangle, RoundedRectangle
from kivy.graphics.texture import Texture
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.widget import Widget

TOUCH = dp(52)
BG = (0.09, 0.10, 0.12, 1)
SURFACE = (0.15, 0.16, 0.19, 1)
ACCENT = (0.36, 0.62, 0.90, 1)
DANGER = (0.86, 0.26, 0.26, 1)
OK = (0.30, 0.70, 0.45, 1)
MUTED_TEXT = (0.70, 0.72, 0.76, 1)

Builder.load_string("""
#:import dp kivy.metrics.dp
<TouchButton>:
    size_hint_y: None
    height: max(dp(52), self.texture_size[1] + dp(16))
    font_size: '17sp'
    background_normal: ''
    background_down: ''
    background_color: 0, 0, 0, 0
    color: 1, 1, 1, 1 if self.disabled is False else 0.5
    halign: 'center'
    valign: 'middle'
    text_size: self.width - dp(12), None
    canvas.before:
        Color:
            rgba: (self.tint if self.state == 'normal' else [c * 0.75 for c in self.tint[:3]] + [1]) if not self.disabled else (0.3, 0.3, 0.33, 1)
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [dp(10)]

<TopBar@BoxLayout>:
    size_hint_y: None
    height: dp(64)
    padding: dp(12), dp(6)
    spacing: dp(8)
    canvas.before:
        Color:
            rgba: 0.13, 0.14, 0.17, 1
        Rectangle:
            pos: self.pos
            size: self.size
<BackBar@TopBar>:
    title: ''
    back_to: 'gallery'
    TouchButton:
        text: 'Back'
        size_hint_x: None
        width: dp(88)
        tint: 0.25, 0.27, 0.32, 1
        on_release: app.go(root.back_to)
    Label:
        text: root.title
        font_size: '20sp'
        bold: True
        halign: 'left'
        valign: 'middle'
        text_size: self.size
        shorten: True

<Heading>:
    size_hint_y: None
    height: self.texture_size[1] + dp(12)
    font_size: '22sp'
    bold: True
    halign: 'left'
    text_size: self.width, None

<Note>:
    size_hint_y: None
    height: self.texture_size[1] + dp(8)
    font_size: '15sp'
    color: 0.70, 0.72, 0.76, 1
    halign: 'left'
    text_size: self.width, None

<Field>:
    orientation: 'vertical'
    size_hint_y: None
    height: self.minimum_height
    spacing: dp(4)
    Label:
        text: root.label
        size_hint_y: None
        height: dp(24)
        font_size: '15sp'
        halign: 'left'
        text_size: self.size
        color: 0.80, 0.82, 0.86, 1
    TextInput:
        id: input
        text: root.text
        on_text: root.text = self.text
        hint_text: root.hint
        password: root.password
        multiline: root.lines > 1
        write_tab: False
        size_hint_y: None
        height: max(dp(52), dp(30) * root.lines + dp(22))
        font_size: '17sp'
        padding: [dp(12), dp(14), dp(12), dp(10)]

<StatusLine>:
    size_hint_y: None
    height: (self.texture_size[1] + dp(16)) if self.text else 0
    opacity: 1 if self.text else 0
    font_size: '15sp'
    halign: 'left'
    text_size: self.width - dp(16), None
    color: (1, 0.82, 0.80, 1) if self.error else (0.85, 0.95, 0.88, 1)
    canvas.before:
        Color:
            rgba: (0.45, 0.12, 0.12, 1) if self.error else (0.12, 0.30, 0.18, 1)
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [dp(8)]
""")


class TouchButton(Button):
    """A rounded button at least 52 dp high; `tint` is its colour."""

    tint = ListProperty(list(ACCENT))


class Heading(Label):
    pass


class Note(Label):
    pass


class Field(BoxLayout):
    """A labelled text input; `text` follows what is typed."""

    label = StringProperty("")
    text = StringProperty("")
    hint = StringProperty("")
    password = BooleanProperty(False)
    lines = NumericProperty(1)


class StatusLine(Label):
    """A line that says what just happened; red when `error`; hidden when empty."""

    error = BooleanProperty(False)

    def say(self, text: str, *, error: bool = False) -> None:
        self.error = error
        self.text = text


class LevelMeter(Widget):
    """A horizontal bar showing loudness in [0, 1] (e.g. while recording a voice sample)."""

    level = NumericProperty(0.0)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.size_hint_y = None
        self.height = dp(18)
        with self.canvas:
            Color(*SURFACE)
            self._track = RoundedRectangle(radius=[dp(6)])
            self._color = Color(*OK)
            self._bar = RoundedRectangle(radius=[dp(6)])
        self.bind(pos=self._redraw, size=self._redraw, level=self._redraw)

    def _redraw(self, *_: object) -> None:
        level = min(1.0, max(0.0, self.level))
        self._track.pos, self._track.size = self.pos, self.size
        self._bar.pos, self._bar.size = self.pos, (self.width * level, self.height)
        self._color.rgba = DANGER if level > 0.9 else OK


class VideoView(Image):
    """Shows RGB frames from a call: implements the sinks' FrameTarget by blitting to a texture."""

    frames_shown = NumericProperty(0)
    placeholder = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("fit_mode", "contain")
        super().__init__(**kwargs)
        self._size: tuple[int, int] | None = None
        self._texture: Texture | None = None
        with self.canvas.before:
            Color(0, 0, 0, 1)
            self._bg = Rectangle()
        self.bind(pos=self._fill, size=self._fill)

    def _fill(self, *_: object) -> None:
        self._bg.pos, self._bg.size = self.pos, self.size

    def show(self, rgb: np.ndarray) -> None:
        height, width = rgb.shape[:2]
        texture = self._texture
        if self._size != (width, height) or texture is None:
            texture = Texture.create(size=(width, height), colorfmt="rgb")
            texture.flip_vertical()  # frames are top row first; GL textures bottom first
            self._texture = self.texture = texture
            self._size = (width, height)
        texture.blit_buffer(np.ascontiguousarray(rgb).tobytes(), colorfmt="rgb", bufferfmt="ubyte")
        self.canvas.ask_update()
        self.frames_shown += 1

    def clear(self) -> None:
        self._texture = self.texture = None
        self._size = None
        self.frames_shown = 0


class Card(BoxLayout):
    """A rounded surface to group a section of a form."""

    radius = NumericProperty(dp(12))
    surface = ObjectProperty(SURFACE)

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("padding", dp(14))
        kwargs.setdefault("spacing", dp(10))
        super().__init__(**kwargs)
        self.size_hint_y = None
        self.bind(minimum_height=self.setter("height"))
        with self.canvas.before:
            Color(*self.surface)
            self._rect = RoundedRectangle(radius=[self.radius])
        self.bind(pos=self._fill, size=self._fill)

    def _fill(self, *_: object) -> None:
        self._rect.pos, self._rect.size = self.pos, self.size
