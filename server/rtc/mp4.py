"""Writes a call to MP4 (H.264 + AAC) on a background thread, from frames and samples as they pass.

Video is written at 25 fps by frame index and audio by sample count, so the file keeps the
call's own timing. Encoding happens off the event loop; `close()` finishes the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import av
import numpy as np

from server.media.types import VIDEO_FPS

AUDIO_RATE = 48000
_DONE = object()
IDLE_S = 30.0  # the encoder gives up (and removes its partial file) after this long without data
CLOSE_WAIT_S = 20.0  # close() waits this long for the encoder to finish the file


class Mp4Writer:
    """`add_video(rgb, index)` and `add_audio(int16 mono, pts)` from any thread; `close()` once."""

    def __init__(self, path: Path, *, size: tuple[int, int], audio_rate: int = AUDIO_RATE) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(f".{self.path.name}.part")  # renamed over `path` once finished
        self.size = size
        self.audio_rate = audio_rate
        self.video_frames = 0
        self.audio_samples = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=500)
        self._error: BaseException | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name=f"mp4-{self.path.name}", daemon=True)
        self._thread.start()
        self._closed = False

    def add_video(self, rgb: np.ndarray, index: int) -> None:
        self._put(("v", rgb, index))

    def add_audio(self, samples: np.ndarray, pts: int) -> None:
        self._put(("a", samples, pts))

    def _put(self, item: object) -> None:
        if self._closed:
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:  # the encoder cannot keep up: drop rather than stall the call
            pass

    async def close(self) -> Path:
        """Finish the file; waits for the encoder (off the event loop, at most CLOSE_WAIT_S)."""
        if not self._closed:
            self._closed = True
            self._put_done()
        await asyncio.to_thread(self._thread.join, CLOSE_WAIT_S)
        if self._thread.is_alive():
            raise TimeoutError(f"the recording {self.path.name} did not finish in {CLOSE_WAIT_S:.0f} s")
        if self._error is not None:
            raise self._error
        return self.path

    def _put_done(self) -> None:
        """Queue the end marker without blocking: when the queue is full, drop a frame for it."""
        while True:
            try:
                self._queue.put_nowait(_DONE)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()

    def _run(self) -> None:
        try:
            with av.open(str(self.partial), mode="w", format="mp4") as container:
                video = container.add_stream(
                    "libx264", rate=VIDEO_FPS, options={"preset": "ultrafast", "tune": "zerolatency"}
                )
                video.width, video.height = self.size
                video.pix_fmt = "yuv420p"
                video.time_base = Fraction(1, VIDEO_FPS)
                audio = container.add_stream("aac", rate=self.audio_rate, layout="mono")
                audio.time_base = Fraction(1, self.audio_rate)
                self._encode(container, video, audio)
                for packet in video.encode(None):
                    container.mux(packet)
                for packet in audio.encode(None):
                    container.mux(packet)
            os.replace(self.partial, self.path)
        except BaseException as exc:  # noqa: BLE001 - re-raised by close() on the caller's side
            self._error = exc
            self._closed = True  # producers stop adding; nothing waits on this thread any more
            self.partial.unlink(missing_ok=True)

    def _next(self) -> object:
        try:
            return self._queue.get(timeout=IDLE_S)
        except queue.Empty:
            raise TimeoutError(f"no media for the recording {self.path.name} in {IDLE_S:.0f} s") from None

    def _encode(self, container: Any, video: Any, audio: Any) -> None:
        last_index = -1
        next_audio = 0
        while (item := self._next()) is not _DONE:
            kind, data, stamp = cast(tuple[str, np.ndarray, int], item)
            if kind == "v":
                if stamp <= last_index:
                    continue
                last_index = stamp
                picture = av.VideoFrame.from_ndarray(_fit(data, self.size), format="rgb24")
                picture.pts = stamp
                picture.time_base = Fraction(1, VIDEO_FPS)
                for packet in video.encode(picture):
                    container.mux(packet)
                self.video_frames += 1
            else:
                samples = np.asarray(data, dtype=np.int16).reshape(1, -1)
                pts = max(int(stamp), next_audio)
                sound = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
                sound.sample_rate = self.audio_rate
                sound.pts = pts
                sound.time_base = Fraction(1, self.audio_rate)
                next_audio = pts + samples.shape[1]
                for packet in audio.encode(sound):
                    container.mux(packet)
                self.audio_samples += samples.shape[1]


def _fit(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (rgb.shape[1], rgb.shape[0]) == size:
        return np.ascontiguousarray(rgb)
    import cv2

    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
