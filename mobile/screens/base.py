"""What every screen shares: the app, a status line, and running a coroutine with its errors shown."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, cast

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen

from mobile.api import ApiClient
from mobile.errors import AppError, SessionExpired

if TYPE_CHECKING:
    from mobile.main import MemoriaApp

# Screens paint their own background so a screenshot of one looks like the app.
Builder.load_string("""
<BaseScreen>:
    canvas.before:
        Color:
            rgba: 0.09, 0.10, 0.12, 1
        Rectangle:
            pos: self.pos
            size: self.size
""")


class BaseScreen(Screen):
    """A screen with `self.app`, `busy`, and `run()` that turns AppErrors into its status line."""

    busy = BooleanProperty(False)

    @property
    def app(self) -> MemoriaApp:
        return cast("MemoriaApp", App.get_running_app())

    @property
    def api(self) -> ApiClient:
        """The logged-in client; without one, the person is sent back to log in."""
        api = self.app.api
        if api is None:
            raise SessionExpired("Please log in.")
        return cast(ApiClient, api)

    def say(self, text: str, *, error: bool = False) -> None:
        status = self.ids.get("status")
        if status is not None:
            status.say(text, error=error)

    def run(self, work: Awaitable[Any], *, busy: str = "") -> None:
        """Run `work` on the app's loop; show `busy` meanwhile and any error afterwards."""
        if busy:
            self.say(busy)
        self.app.spawn(self._guarded(work, busy))

    async def _guarded(self, work: Awaitable[Any], busy: str) -> None:
        self.busy = True
        try:
            await work
            status = self.ids.get("status")
            if busy and status is not None and status.text == busy:  # unless the work said something
                self.say("")
        except SessionExpired as exc:
            self.app.session_expired(exc.message)
        except AppError as exc:
            self.say(exc.message, error=True)
        finally:
            self.busy = False

    def refresh(self) -> None:
        """Reload what the screen shows; called each time it is entered."""

    def on_enter(self, *args: Any) -> None:
        self.refresh()
