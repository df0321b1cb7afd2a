"""A video track fed by Kivy's Camera widget: the phone's camera on Android (Kivy's android
camera provider), or any camera Kivy can open on a desktop.

Frames are read from the widget's texture on the UI thread's clock (that is where GL lives) and
the call's media thread sends the newest one; one texture read-back per frame, 15 fps keeps that
affordable on a phone.
"""

from __future__ import annotations

import fractions
import threading
import time
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from mobile.rtc.tracks import VIDEO_CLOCK, _Pacer

FPS = 15


class KivyCameraTrack(MediaStreamTrack):
    """Sends what a kivy.uix.camera.Camera shows, at FPS frames per second."""

    kind = "video"

    def __init__(self, camera: object, schedule_interval: Any = None) -> None:
        super().__init__()
        self.camera = camera
        self._pacer = _Pacer()
        self._index = 0
        self._t0 = time.monotonic()
        # The texture is read on the UI thread (GL lives there); the media thread sends the newest.
        self._lock = threading.Lock()
        self._latest: np.ndarray | None = None
        if schedule_interval is None:
            from kivy.clock import Clock

            schedule_interval = Clock.schedule_interval
        self._grabber = schedule_interval(self._grab, 1 / FPS)

    def _grab(self, _dt: float = 0.0) -> None:
        texture = getattr(self.camera, "texture", None)
        if texture is None:
            return
        width, height = texture.size
        rgba = np.frombuffer(texture.pixels, np.uint8).reshape(height, width, 4)
        rgb = np.ascontiguousarray(rgba[::-1, :, :3])  # GL rows are bottom-up
        with self._lock:
            self._latest = rgb

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._pacer.wait_until(self._index / FPS)
        self._index += 1
        with self._lock:
            rgb = self._latest
        if rgb is None:
            rgb = np.zeros((240, 320, 3), np.uint8)
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = int((time.monotonic() - self._t0) * VIDEO_CLOCK)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame

    def stop(self) -> None:
        super().stop()
        cancel = getattr(self._grabber, "cancel", None)
        if cancel is not None:
            cancel()
        if hasattr(self.camera, "play"):
            self.camera.play = False
