"""A yes/no popup for actions that cannot be undone."""

from __future__ import annotations

from collections.abc import Callable

from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.popup import Popup

from mobile.ui.widgets import DANGER, Note, TouchButton


def confirm(question: str, action: str, on_yes: Callable[[], None]) -> Popup:
    body = BoxLayout(orientation="vertical", spacing=dp(12), padding=dp(8))
    body.add_widget(Note(text=question, color=(1, 1, 1, 1)))
    row = BoxLayout(size_hint_y=None, height=dp(56), spacing=dp(8))
    popup = Popup(title="Are you sure?", content=body, size_hint=(0.9, None), height=dp(260))
    no = TouchButton(text="Cancel", tint=[0.25, 0.27, 0.32, 1])
    yes = TouchButton(text=action, tint=list(DANGER))
    no.bind(on_release=lambda *_: popup.dismiss())

    def agreed(*_: object) -> None:
        popup.dismiss()
        on_yes()

    yes.bind(on_release=agreed)
    row.add_widget(no)
    row.add_widget(yes)
    body.add_widget(row)
    popup.open()
    return popup
