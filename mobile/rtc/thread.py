"""The call's media on its own thread, so a busy screen never starves it.

Kivy draws on its event loop; when the machine is busy a frame of UI work can take tens of
milliseconds, and aiortc on that same loop then sent ~15 of the mic's 50 packets a second until
the server's consent checks expired. Here aiortc, the tracks and the sinks run on a loop of their
own (`MediaThread`); the screen gets only what it shows: the newest avatar frame and preview frame
(`UiFrames`, drawn on Kivy's clock, older ones dropped) and the call events. The REST calls the
call makes (offer, end) go back to the app's loop, where its HTTP client lives (`UiLoopApi`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


class MediaThread:
    """An asyncio loop running on a daemon thread until `stop()`."""

    def __init__(self, name: str = "memoria-media") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()

    def submit(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the media loop and wait for it from the caller's loop."""
        return await asyncio.wrap_future(self.submit(work))

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        self.loop.call_soon_threadsafe(callback, *args)

    def stop(self, timeout: float = 5.0) -> None:
        if not self.alive:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()


class UiFrames:
    """A frame target for the media thread: keeps the newest frame and draws it on the UI's clock."""

    def __init__(self, target: Any, schedule: Callable[[Callable[[float], None]], Any] | None = None) -> None:
        self.target = target
        self._schedule = schedule or _kivy_schedule
        self._lock = threading.Lock()
        self._latest: np.ndarray | None = None
        self._pending = False
        self.received = 0
        self.dropped = 0  # frames replaced by a newer one before the screen drew them

    def show(self, rgb: np.ndarray) -> None:
        with self._lock:
            self.received += 1
            if self._latest is not None:
                self.dropped += 1
            self._latest = rgb
            if self._pending:
                return
            self._pending = True
        self._schedule(self._draw)

    def _draw(self, _dt: float = 0.0) -> None:
        with self._lock:
            rgb, self._latest, self._pending = self._latest, None, False
        if rgb is not None:
            self.target.show(rgb)


class UiLoopApi:
    """The app's API client, called from the media thread: each call runs on the app's own loop."""

    def __init__(self, api: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._api, self._loop = api, loop

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._api, name)
        if not callable(method):
            return method

        async def on_app_loop(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(method(*args, **kwargs), self._loop))

        return on_app_loop


class ThreadedCall:
    """What the call screen holds: a CallClient living on the media thread, driven from the UI.

    Attribute reads (call_id, audio, mic, camera...) go straight to the client; its coroutines run
    on the media loop; `send` is queued there.
    """

    def __init__(self, media: MediaThread, client: Any) -> None:
        self.media, self.client = media, client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    async def start(self) -> None:
        await self.media.run(self.client.start())

    async def hang_up(self, reason: str = "user_hangup") -> None:
        await self.media.run(self.client.hang_up(reason))

    async def set_recording(self, on: bool) -> None:
        await self.media.run(self.client.set_recording(on))

    async def network_changed(self) -> None:
        await self.media.run(self.client.network_changed())

    def send(self, message: dict[str, object]) -> None:
        self.media.call_soon(self.client.send, message)


def _kivy_schedule(callback: Callable[[float], None]) -> Any:
    from kivy.clock import Clock  # thread-safe: this is how Kivy's @mainthread works

    return Clock.schedule_once(callback, 0)


def ui_events(
    handler: Callable[[Any], None], schedule: Callable[[Callable[[float], None]], Any] | None = None
) -> Callable[[Any], None]:
    """An on_event for the media thread that hands each event to `handler` on the UI's clock."""
    run = schedule or _kivy_schedule

    def on_event(event: Any) -> None:
        run(lambda _dt: handler(event))

    return on_event
