"""Past calls, newest first; tap one to read what was said."""

from __future__ import annotations

from datetime import datetime

import msgspec
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from mobile.models import CallRecord
from mobile.screens.base import BaseScreen

Builder.load_string("""
<CallRow>:
    orientation: 'vertical'
    size_hint_y: None
    height: dp(84)
    padding: dp(12), dp(8)
    canvas.before:
        Color:
            rgba: (0.20, 0.22, 0.26, 1) if self.state == 'down' else (0.15, 0.16, 0.19, 1)
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [dp(10)]
    Label:
        text: root.title
        font_size: '18sp'
        bold: True
        halign: 'left'
        valign: 'middle'
        text_size: self.size
    Label:
        text: root.detail
        font_size: '14sp'
        color: 0.70, 0.72, 0.76, 1
        halign: 'left'
        valign: 'middle'
        text_size: self.size

<HistoryScreen>:
    name: 'history'
    BoxLayout:
        orientation: 'vertical'
        BackBar:
            title: 'Call history'
            back_to: 'gallery'
        StatusLine:
            id: status
        Note:
            text: 'No calls yet.' if root.empty else ''
            padding: dp(16), 0
        ScrollView:
            do_scroll_x: False
            GridLayout:
                id: rows
                cols: 1 if app.portrait else 2
                size_hint_y: None
                height: self.minimum_height
                padding: dp(12)
                spacing: dp(10)
""")


def when(stamp: str | None) -> str:
    """'Mon 3 Mar, 14:05' from an ISO timestamp; the raw text if it does not parse."""
    if not stamp:
        return ""
    try:
        return datetime.fromisoformat(stamp).strftime("%a %d %b, %H:%M")
    except ValueError:
        return stamp


def duration(call: CallRecord) -> str:
    if call.live:
        return "in progress"
    try:
        seconds = (
            datetime.fromisoformat(call.ended_at or "") - datetime.fromisoformat(call.started_at or "")
        ).total_seconds()
    except ValueError:
        return "in progress" if not call.ended_at else ""
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


class CallRow(ButtonBehavior, BoxLayout):
    call = ObjectProperty(None)
    title = StringProperty("")
    detail = StringProperty("")


class HistoryScreen(BaseScreen):
    empty = BooleanProperty(False)

    def refresh(self) -> None:
        if self.app.api is not None:
            self.run(self._load(), busy="Loading…")

    async def _load(self) -> None:
        calls = await self.api.calls()
        names = {avatar.id: avatar.name for avatar in await self.api.avatars()}
        self.show(
            [c if c.avatar_name else msgspec.structs.replace(c, avatar_name=names.get(c.avatar_id, "")) for c in calls]
        )

    def show(self, calls: list[CallRecord]) -> None:
        rows = self.ids.rows
        rows.clear_widgets()
        for call in sorted(calls, key=lambda c: c.started_at or "", reverse=True):
            stars = f"  ·  rated {call.user_satisfaction}/5" if call.user_satisfaction else ""
            exchanges = f"{call.total_exchanges} exchange{'' if call.total_exchanges == 1 else 's'}"
            detail = f"{duration(call)}  ·  {exchanges}{stars}"
            row = CallRow(call=call, title=f"{call.avatar_name or 'Call'}  —  {when(call.started_at)}", detail=detail)
            row.bind(on_release=lambda r: self.open(r.call))
            rows.add_widget(row)
        self.empty = not calls

    def open(self, call: CallRecord) -> None:
        self.app.current_call = call
        self.app.go("transcript")
