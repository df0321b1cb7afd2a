"""Records both sides of a call: the avatar's video and voice, with the user's voice mixed in."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np

from server.rtc.mp4 import Mp4Writer


class CallRecorder:
    """A track tap writing an MP4; the user's audio is mixed into the avatar's as it arrives."""

    def __init__(self, path: Path, size: tuple[int, int], *, first_index: int = 0) -> None:
        self.writer = Mp4Writer(path, size=size)
        self.first_index = first_index  # the file starts at this video frame of the call
        self.first_pts = first_index * 48000 // 25
        self._user: deque[np.ndarray] = deque()
        self._user_held = 0
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

    def avatar_video(self, rgb: np.ndarray, index: int) -> None:
        if self.active and index >= self.first_index:
            self.writer.add_video(rgb, index - self.first_index)

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
