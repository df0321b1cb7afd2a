"""What was said in one call, as a chat: the person on the right, the avatar on the left."""

from __future__ import annotations

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from mobile.models import CallRecord, Message
from mobile.screens.base import BaseScreen
from mobile.screens.history import when

Builder.load_string("""
<Bubble>:
    size_hint_y: None
    height: label.texture_size[1] + dp(4)
    # the person's words sit on the right, the avatar's on the left
    padding: [dp(64), 0, dp(8), 0] if root.mine else [dp(8), 0, dp(64), 0]
    Label:
        id: label
        text: root.text
        font_size: '16sp'
        halign: 'left'
        valign: 'middle'
        text_size: self.width, None
        padding: dp(12), dp(10)
        color: (1, 0.85, 0.82, 1) if root.flagged else (1, 1, 1, 1)
        canvas.before:
            Color:
                rgba: (0.22, 0.36, 0.55, 1) if root.mine else (0.18, 0.19, 0.23, 1)
            RoundedRectangle:
                pos: self.pos
                size: self.size
                radius: [dp(12)]

<TranscriptScreen>:
    name: 'transcript'
    BoxLayout:
        orientation: 'vertical'
        BackBar:
            title: root.title
            back_to: 'history'
        StatusLine:
            id: status
        ScrollView:
            do_scroll_x: False
            BoxLayout:
                id: messages
                orientation: 'vertical'
                size_hint: (1, None) if app.portrait else (0.7, None)
                pos_hint: {'center_x': 0.5}
                height: self.minimum_height
                padding: dp(8), dp(12)
                spacing: dp(8)
""")


class Bubble(BoxLayout):
    text = StringProperty("")
    mine = BooleanProperty(False)
    flagged = BooleanProperty(False)


class TranscriptScreen(BaseScreen):
    title = StringProperty("Transcript")

    def refresh(self) -> None:
        call: CallRecord | None = getattr(self.app, "current_call", None)
        if call is None:
            return
        self.title = f"{call.avatar_name or 'Call'}  —  {when(call.started_at)}"
        self.show(call.messages)
        if not call.messages and self.app.api is not None:
            self.run(self._load(call.id), busy="Loading…")

    async def _load(self, call_id: int) -> None:
        self.show((await self.api.call(call_id)).messages)

    def show(self, messages: list[Message]) -> None:
        box = self.ids.messages
        box.clear_widgets()
        for message in messages:
            box.add_widget(
                Bubble(text=message.text, mine=message.role == "user", flagged=bool(message.flags.get("crisis")))
            )
        if not messages:
            self.say("Nothing was said in this call.")
