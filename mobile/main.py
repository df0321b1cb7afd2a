"""The Memoria app: screens, the server session, and the asyncio loop aiortc shares with Kivy.

`python -m mobile` (or the `memoria-app` script) runs it on a desktop; on Android buildozer
packs the same code with `main.py` at the top of the package calling `run()`.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import msgspec
from kivy.app import App
from kivy.core.window import Window
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager
from kivy.utils import platform

from mobile.api import ApiClient, normalise_base_url
from mobile.errors import AppError, UntrustedCertificate
from mobile.models import Avatar, CallRecord
from mobile.prefs import Prefs, load_prefs, prefs_path, save_prefs
from mobile.rtc.thread import MediaThread
from mobile.screens import SCREENS
from mobile.ui.widgets import BG

log = logging.getLogger(__name__)


class MemoriaApp(App):
    """Holds the API client and the screens; everything async runs via `spawn()`."""

    title = "Memoria"
    portrait = BooleanProperty(True)  # screens lay out for a phone (portrait) or a tablet (landscape)
    user_name = StringProperty("")
    api = ObjectProperty(None, allownone=True)
    current_avatar = ObjectProperty(None, allownone=True)  # the Avatar being edited or called

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prefs = Prefs()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.last_call_id: int | None = None
        self.current_call: CallRecord | None = None
        self._media: MediaThread | None = None

    def media_thread(self) -> MediaThread:
        """The thread calls run their media on (started with the first call, kept for the next)."""
        if self._media is None or not self._media.alive:
            self._media = MediaThread()
        return self._media

    def build(self) -> ScreenManager:
        Window.clearcolor = BG
        Window.bind(size=self._on_window_size)
        self._on_window_size(Window, Window.size)
        self.prefs = load_prefs(self._prefs_file)
        manager = ScreenManager(transition=NoTransition())
        for spec in SCREENS:
            module, _, name = spec.partition(":")
            manager.add_widget(getattr(importlib.import_module(module), name)())
        if self.prefs.token:
            self.api = self._client(self.prefs.server_url, self.prefs.token)
            manager.current = "gallery"
        else:
            manager.current = "login"
        return manager

    @property
    def _prefs_file(self) -> Path:
        return prefs_path(self.user_data_dir)

    def _on_window_size(self, _window: Any, size: tuple[int, int]) -> None:
        self.portrait = size[1] >= size[0]

    # -- session -------------------------------------------------------------------------
    def _client(self, server_url: str, token: str | None = None) -> ApiClient:
        from mobile.trust import context_for

        pinned = self.prefs.pinned.get(normalise_base_url(server_url))
        return ApiClient(server_url, token=token, verify=context_for(pinned) if pinned else True)

    async def log_in(
        self, server_url: str, email: str, password: str, *, register: bool = False, expected_ca: str = ""
    ) -> None:
        """Log in (registering first if asked), remember the server and token, open the gallery.

        A home server whose certificate this phone does not trust yet is trusted on first use
        (its authority checked against `expected_ca`, the fingerprint it announced, when found on
        the network) and pinned; one that later shows another certificate is refused.
        """
        from mobile.trust import CertificateChanged, fetch_authority

        url = normalise_base_url(server_url)
        pinned = dict(self.prefs.pinned)
        api = self._client(url)
        try:
            try:
                token = await self._sign_in(api, email, password, register)
            except UntrustedCertificate:
                await api.aclose()
                if url in pinned:
                    raise CertificateChanged(
                        "This server's certificate changed since this phone first connected. If Memoria was not "
                        "reinstalled there, someone may be pretending to be it. To trust it again, ask whoever "
                        "looks after it, then forget the server in the app's settings."
                    ) from None
                pinned[url] = await fetch_authority(url, expected_ca)
                self.prefs = msgspec.structs.replace(self.prefs, pinned=pinned)
                api = self._client(url)
                token = await self._sign_in(api, email, password, register)
        except BaseException:
            await api.aclose()
            raise
        await self._replace_api(api)
        self.prefs = Prefs(server_url=api.base_url, email=email, token=token, pinned=pinned)
        save_prefs(self._prefs_file, self.prefs)
        self.go("gallery")

    @staticmethod
    async def _sign_in(api: ApiClient, email: str, password: str, register: bool) -> str:
        if register:
            await api.register(email, password)
        return await api.login(email, password)

    async def log_out(self) -> None:
        api = self.api
        try:
            if api is not None:
                await api.logout()
        except AppError:
            pass  # the token is forgotten here either way
        finally:
            await self._replace_api(None)
            self.prefs = msgspec.structs.replace(self.prefs, token="")
            save_prefs(self._prefs_file, self.prefs)
            self.go("login")

    def session_expired(self, message: str) -> None:
        """The server refused our token: back to the login screen with the reason shown."""
        self.prefs = msgspec.structs.replace(self.prefs, token="")
        save_prefs(self._prefs_file, self.prefs)
        self.go("login")
        self.root.get_screen("login").say(message, error=True)

    async def _replace_api(self, api: ApiClient | None) -> None:
        old, self.api = self.api, api
        if old is not None and old is not api:
            await old.aclose()

    # -- navigation and tasks ------------------------------------------------------------
    def go(self, screen: str, avatar: Avatar | None = None) -> None:
        if avatar is not None or screen == "avatar_edit":
            self.current_avatar = avatar
        self.root.current = screen

    def spawn(self, work: Coroutine[Any, Any, Any] | Any) -> asyncio.Task[Any]:
        """Run a coroutine on Kivy's loop; it is cancelled when the app stops."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def shutdown(self) -> None:
        """Hang up, cancel what is running and close the HTTP client."""
        call = self.root.get_screen("call") if self.root else None
        if call is not None:
            await call.hang_up()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._replace_api(None)
        if self._media is not None:
            self._media.stop()

    def on_start(self) -> None:
        if platform == "android":
            from mobile.android_media import request_permissions, watch_network

            loop = asyncio.get_running_loop()
            request_permissions(lambda granted: None if granted else log.warning("camera/mic permission refused"))

            def changed() -> None:  # called on a Java thread
                loop.call_soon_threadsafe(self.network_changed)

            self._network_watch = watch_network(changed)

    def network_changed(self) -> None:
        """The device changed network: a call in progress redials over the new one."""
        client = self.root.get_screen("call").client if self.root else None
        if client is not None:
            self.spawn(client.network_changed())

    def on_pause(self) -> bool:
        return True  # Android: keep the call alive while another app is briefly in front


async def run_app(app: MemoriaApp | None = None) -> None:
    app = app or MemoriaApp()
    try:
        await app.async_run(async_lib="asyncio")
    finally:
        await app.shutdown()


def run() -> None:
    """Entry point of `python -m mobile` and the `memoria-app` script."""
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run_app())
