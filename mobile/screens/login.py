"""Server address and log in (or create an account)."""

from __future__ import annotations

from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty

from mobile.errors import AppError
from mobile.screens.base import BaseScreen

Builder.load_string("""
<LoginScreen>:
    name: 'login'
    ScrollView:
        do_scroll_x: False
        BoxLayout:
            orientation: 'vertical'
            size_hint: (1, None) if app.portrait else (None, None)
            width: self.parent.width if app.portrait else min(self.parent.width, dp(520))
            x: self.parent.center_x - self.width / 2
            height: max(self.minimum_height, self.parent.height)
            padding: dp(24)
            spacing: dp(14)
            Widget:
                size_hint_y: None
                height: dp(24)
            Heading:
                text: 'Memoria'
                font_size: '30sp'
            Note:
                text: 'Talk again with someone you lost. Your conversations stay on your own server.'
            Field:
                id: server
                label: 'Server address'
                hint: 'e.g. 192.168.1.20:8000'
                text: app.prefs.server_url
            TouchButton:
                id: find
                text: 'Looking for Memoria at home…' if root.searching else 'Find Memoria at home'
                tint: 0.25, 0.27, 0.32, 1
                disabled: root.searching or root.busy
                on_release: root.find()
            BoxLayout:
                id: found
                orientation: 'vertical'
                size_hint_y: None
                height: self.minimum_height
                spacing: dp(8)
            Field:
                id: email
                label: 'Email'
                hint: 'you@example.org'
                text: app.prefs.email
            Field:
                id: password
                label: 'Password'
                password: True
                hint: 'at least 8 characters'
            StatusLine:
                id: status
            TouchButton:
                id: login_button
                text: 'Signing in…' if root.busy else 'Log in'
                disabled: root.busy
                on_release: root.submit(register=False)
            TouchButton:
                text: 'Create an account'
                tint: 0.25, 0.27, 0.32, 1
                disabled: root.busy
                on_release: root.submit(register=True)
            Widget:
""")


class LoginScreen(BaseScreen):
    searching = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.announced: dict[str, str] = {}  # server URL found on the network -> its CA fingerprint

    def find(self) -> None:
        """List the Memoria servers announcing themselves on this network; a tap picks one."""
        self.app.spawn(self._find())

    async def _find(self) -> None:
        from mobile.discovery import find_servers
        from mobile.ui.widgets import TouchButton

        self.searching = True
        try:
            servers = await find_servers()
        except Exception:  # no multicast on this network: typing the address still works
            servers = []
        finally:
            self.searching = False
        box = self.ids.found
        box.clear_widgets()
        for server in servers:
            self.announced[server.url] = server.ca_fingerprint
            button = TouchButton(text=f"{server.name}  ({server.url.removeprefix('https://')})", size_hint_y=None)
            button.bind(on_release=lambda _b, url=server.url: self._pick(url))
            box.add_widget(button)
        if not servers:
            self.say("No Memoria found on this network. Type its address (it is shown on the computer running it).")

    def _pick(self, url: str) -> None:
        self.ids.server.text = url
        self.say("")

    def refresh(self) -> None:
        self.ids.server.text = self.app.prefs.server_url
        self.ids.email.text = self.app.prefs.email
        self.ids.password.text = ""

    def submit(self, *, register: bool) -> None:
        email = self.ids.email.text.strip()
        password = self.ids.password.text
        if not email or not password:
            self.say("Enter your email and password.", error=True)
            return
        if register and len(password) < 8:
            self.say("Choose a password of at least 8 characters.", error=True)
            return
        self.run(self._submit(email, password, register), busy="Connecting to your server…")

    async def _submit(self, email: str, password: str, register: bool) -> None:
        try:
            server = self.ids.server.text.strip().rstrip("/")
            expected = self.announced.get(server, "")
            await self.app.log_in(server, email, password, register=register, expected_ca=expected)
        except AppError:
            self.ids.password.text = ""
            raise
