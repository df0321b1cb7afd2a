"""After a call: how was it, 1 to 5; skipping is fine."""

from __future__ import annotations

from kivy.lang import Builder
from kivy.properties import NumericProperty

from mobile.screens.base import BaseScreen

Builder.load_string("""
<StarButton@TouchButton>:
    size_hint: None, None
    size: dp(60), dp(60)
    font_size: '28sp'

<RatingScreen>:
    name: 'rating'
    BoxLayout:
        orientation: 'vertical'
        padding: dp(24)
        spacing: dp(16)
        Widget:
        Heading:
            text: 'How was the call?'
            halign: 'center'
        Note:
            text: 'Your rating is kept with this call on your own server.'
            halign: 'center'
        AnchorLayout:
            size_hint_y: None
            height: dp(72)
            BoxLayout:
                id: stars
                size_hint: None, None
                size: self.minimum_width, dp(60)
                spacing: dp(8)
                StarButton:
                    text: '1'
                    tint: (0.95, 0.75, 0.2, 1) if root.stars >= 1 else (0.25, 0.27, 0.32, 1)
                    on_release: root.stars = 1
                StarButton:
                    text: '2'
                    tint: (0.95, 0.75, 0.2, 1) if root.stars >= 2 else (0.25, 0.27, 0.32, 1)
                    on_release: root.stars = 2
                StarButton:
                    text: '3'
                    tint: (0.95, 0.75, 0.2, 1) if root.stars >= 3 else (0.25, 0.27, 0.32, 1)
                    on_release: root.stars = 3
                StarButton:
                    text: '4'
                    tint: (0.95, 0.75, 0.2, 1) if root.stars >= 4 else (0.25, 0.27, 0.32, 1)
                    on_release: root.stars = 4
                StarButton:
                    text: '5'
                    tint: (0.95, 0.75, 0.2, 1) if root.stars >= 5 else (0.25, 0.27, 0.32, 1)
                    on_release: root.stars = 5
        StatusLine:
            id: status
        BoxLayout:
            size_hint: (1, None) if app.portrait else (0.6, None)
            pos_hint: {'center_x': 0.5}
            height: dp(52)
            spacing: dp(10)
            TouchButton:
                text: 'Skip'
                tint: 0.25, 0.27, 0.32, 1
                on_release: app.go('gallery')
            TouchButton:
                id: submit
                text: 'Send rating'
                disabled: root.stars == 0 or root.busy
                on_release: root.submit()
        Widget:
""")


class RatingScreen(BaseScreen):
    stars = NumericProperty(0)

    def refresh(self) -> None:
        self.stars = 0
        self.say("")

    def submit(self) -> None:
        call_id = self.app.last_call_id
        if call_id is None:
            self.app.go("gallery")
            return
        self.run(self._submit(call_id, int(self.stars)), busy="Sending…")

    async def _submit(self, call_id: int, stars: int) -> None:
        await self.api.rate_call(call_id, stars)
        self.app.go("gallery")
