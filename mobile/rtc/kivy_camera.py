"""A video track fed by Kivy's Camera widget: the phone's camera on Android (Kivy's android
camera provider), or any camera Kivy can open on a desktop.

Frames are read from the widget's texture on the UI loop (that is where GL lives), so this
costs one texture read-back per sent frame; 15 fps keeps that affordable on a phone.
"""

from __future__ import annotations

import fractions
import time

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from mobile.rtc.tracks import VIDEO_CLOCK, _Pacer

FPS = 15


class KivyCameraTrack(MediaStreamTrack):
    """Sends what a kivy.uix.camera.Camera shows, at FPS frames per second."""

    kind = "video"

    def __init__(self, camera: object) -> None:
        super().__init__()
        self.camera = camera
        self._pacer = _Pacer()
        self._index = 0
        self._t0 = time.monotonic()

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._pacer.wait_until(self._index / FPS)
        self._index += 1
        texture = getattr(self.camera, "texture", None)
        if texture is None:
            rgb = np.zeros((240, 320, 3), np.uint8)
        else:
            width, height = texture.size
            rgba = np.frombuffer(texture.pixels, np.uint8).reshape(height, width, 4)
            rgb = np.ascontiguousarray(rgba[::-1, :, :3])  # GL rows are bottom-up
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = int((time.monotonic() - self._t0) * VIDEO_CLOCK)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame

    def stop(self) -> None:
        super().stop()
        if hasattr(self.camera, "play"):
            self.camera.play = False
