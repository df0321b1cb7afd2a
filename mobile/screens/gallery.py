"""The user's avatars: a card each with the primary photo, to call or edit; add a new one."""

from __future__ import annotations

from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from mobile.errors import AppError
from mobile.models import Avatar, primary_photo
from mobile.screens.base import BaseScreen
from mobile.ui.thumbs import photo_texture

Builder.load_string("""
<AvatarCard>:
    orientation: 'horizontal' if app.portrait else 'vertical'
    size_hint_y: None
    height: dp(132) if app.portrait else dp(360)
    padding: dp(10)
    spacing: dp(12)
    canvas.before:
        Color:
            rgba: 0.15, 0.16, 0.19, 1
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [dp(12)]
    Image:
        id: photo
        size_hint_x: None if app.portrait else 1
        width: dp(112) + 0 * app.portrait  # re-evaluated on rotation
        fit_mode: 'cover'
        color: (1, 1, 1, 1) if self.texture else (0.25, 0.27, 0.31, 1)
    BoxLayout:
        orientation: 'vertical'
        spacing: dp(6)
        size_hint_y: 1 if app.portrait else None
        height: self.minimum_height
        Label:
            text: root.avatar.name if root.avatar else ''
            font_size: '20sp'
            bold: True
            halign: 'left'
            text_size: self.width, None
            size_hint_y: None
            height: self.texture_size[1]
        Label:
            text: root.subtitle
            font_size: '15sp'
            color: 0.70, 0.72, 0.76, 1
            halign: 'left'
            text_size: self.width, None
            size_hint_y: None
            height: self.texture_size[1]
        BoxLayout:
            spacing: dp(8)
            size_hint_y: None
            height: dp(52)
            TouchButton:
                text: 'Call'
                tint: 0.30, 0.70, 0.45, 1
                on_release: app.go('call', root.avatar)
            TouchButton:
                text: 'Edit'
                tint: 0.25, 0.27, 0.32, 1
                on_release: app.go('avatar_edit', root.avatar)

<GalleryScreen>:
    name: 'gallery'
    BoxLayout:
        orientation: 'vertical'
        TopBar:
            Label:
                text: 'Your people'
                font_size: '22sp'
                bold: True
                halign: 'left'
                text_size: self.size
                valign: 'middle'
            TouchButton:
                text: 'History'
                size_hint_x: None
                width: dp(100)
                tint: 0.25, 0.27, 0.32, 1
                on_release: app.go('history')
            TouchButton:
                text: 'Log out'
                size_hint_x: None
                width: dp(100)
                tint: 0.25, 0.27, 0.32, 1
                on_release: app.spawn(app.log_out())
        StatusLine:
            id: status
        ScrollView:
            do_scroll_x: False
            GridLayout:
                id: grid
                cols: 1 if app.portrait else max(2, int(self.width / dp(260)))
                # equal columns even when there are fewer people than columns
                col_force_default: not app.portrait
                col_default_width: (self.width - dp(24) - dp(12) * (self.cols - 1)) / self.cols
                size_hint_y: None
                height: self.minimum_height
                padding: dp(12)
                spacing: dp(12)
        Note:
            id: empty
            text: 'No one here yet. Add the person you want to talk with: a clear photo of their face, a recording of their voice, and what they were like.' if root.empty else ''
            padding: dp(16), 0
        BoxLayout:
            size_hint_y: None
            height: dp(76)
            padding: dp(12)
            TouchButton:
                id: add
                text: '+  Add someone'
                on_release: app.go('avatar_edit', None)
""")


class AvatarCard(BoxLayout):
    avatar = ObjectProperty(None, allownone=True)
    subtitle = StringProperty("")


class GalleryScreen(BaseScreen):
    empty = ObjectProperty(False)

    def refresh(self) -> None:
        if self.app.api is not None:
            self.run(self._load(), busy="Loading…")

    async def _load(self) -> None:
        avatars = await self.api.avatars()
        self.show(avatars)
        for card in list(self.ids.grid.children):
            await self._load_photo(card)

    def show(self, avatars: list[Avatar]) -> None:
        grid = self.ids.grid
        grid.clear_widgets()
        for avatar in avatars:
            subtitle = avatar.relationship.capitalize() if avatar.relationship else ""
            grid.add_widget(AvatarCard(avatar=avatar, subtitle=subtitle))
        self.empty = not avatars

    async def _load_photo(self, card: AvatarCard) -> None:
        avatar: Avatar = card.avatar
        photo_id = avatar.primary_photo_id
        if photo_id is None:
            photo = primary_photo(avatar)
            photo_id = photo.id if photo else None
        if photo_id is None:
            card.subtitle += "\nNo photo yet: tap Edit to add one."
            return
        try:
            card.ids.photo.texture = await photo_texture(self.api, avatar.id, photo_id)
        except AppError:
            pass  # the card still works without its picture
