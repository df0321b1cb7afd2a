"""Records both sides of a call: the avatar's video with the user's camera as a small picture in
its corner, and the avatar's voice with the user's voice mixed in."""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path

import av
import numpy as np

from server.rtc.mp4 import Mp4Writer

INSET_SHARE = 0.28  # the user's picture is this share of the frame's width
INSET_MARGIN = 12
INSET_BORDER = 2
CAMERA_STALE_S = 1.0  # a camera silent this long (turned off, dropped) leaves the recording


class CallRecorder:
    """A track tap writing an MP4; the user's audio and camera are mixed in as they arrive."""

    def __init__(self, path: Path, size: tuple[int, int], *, first_index: int = 0) -> None:
        self.writer = Mp4Writer(path, size=size)
        self.first_index = first_index  # the file starts at this video frame of the call
        self.first_pts = first_index * 48000 // 25
        self._user: deque[np.ndarray] = deque()
        self._user_held = 0
        self._camera: av.VideoFrame | None = None  # the newest picture from the user's camera
        self._camera_at = 0.0
        self._inset: np.ndarray | None = None  # that picture, scaled and framed for the corner
        self.active = True

    def user_audio(self, samples: np.ndarray) -> None:
        """The user's voice, int16 mono 48 kHz, in arrival order."""
        if not self.active:
            return
        self._user.append(samples)
        self._user_held += len(samples)
        while self._user_held > 48000:  # never let the mix fall more than a second behind
            self._user_held -= len(self._user.popleft())

    def avatar_audio(self, samples: np.ndarray, pts: int) -> None:
        if not self.active or pts < self.first_pts:
            return
        mixed = samples.astype(np.int32)
        user = self._take_user(len(samples))
        mixed[: len(user)] += user
        self.writer.add_audio(np.clip(mixed, -32768, 32767).astype(np.int16), pts - self.first_pts)

    def user_video(self, frame: av.VideoFrame) -> None:
        """The user's camera; only the newest picture is kept, and scaled only when it is used."""
        if self.active:
            self._camera, self._camera_at, self._inset = frame, time.monotonic(), None

    def avatar_video(self, rgb: np.ndarray, index: int) -> None:
        if self.active and index >= self.first_index:
            self.writer.add_video(self._with_inset(rgb), index - self.first_index)

    def _with_inset(self, rgb: np.ndarray) -> np.ndarray:
        """The avatar's frame with the user's picture in the bottom-right corner (a copy: the frame
        being sent is not touched)."""
        if self._camera is None or time.monotonic() - self._camera_at > CAMERA_STALE_S:
            return rgb
        height, width = rgb.shape[:2]
        if self._inset is None:
            w = max(16, int(width * INSET_SHARE)) // 2 * 2
            h = max(16, round(w * self._camera.height / max(1, self._camera.width))) // 2 * 2
            h = min(h, height - 2 * (INSET_MARGIN + INSET_BORDER))
            picture = self._camera.reformat(width=w, height=h, format="rgb24").to_ndarray()
            self._inset = np.pad(picture, ((INSET_BORDER,) * 2, (INSET_BORDER,) * 2, (0, 0)), constant_values=255)
        inset = self._inset
        out = rgb.copy()
        top, left = height - INSET_MARGIN - inset.shape[0], width - INSET_MARGIN - inset.shape[1]
        out[top : top + inset.shape[0], left : left + inset.shape[1]] = inset
        return out

    def _take_user(self, count: int) -> np.ndarray:
        parts, need = [], count
        while need > 0 and self._user:
            head = self._user[0]
            if len(head) <= need:
                parts.append(self._user.popleft())
                need -= len(head)
            else:
                parts.append(head[:need])
                self._user[0] = head[need:]
                need = 0
        taken = np.concatenate(parts) if parts else np.zeros(0, np.int16)
        self._user_held -= len(taken)
        return taken.astype(np.int32)

    async def close(self) -> Path:
        self.active = False
        return await self.writer.close()
