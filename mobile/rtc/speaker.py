"""Desktop speaker through `sounddevice` (PortAudio), an optional dependency of the app.

A small bounded buffer sits between the call and the audio callback: if playback falls behind
we drop the oldest audio rather than let the avatar's voice lag further and further behind.
"""

from __future__ import annotations

import collections
import threading

import numpy as np

MAX_BUFFER_S = 0.5


class SoundDeviceOutput:
    """Plays 16-bit mono PCM on the default output device."""

    def __init__(self, rate: int) -> None:
        import sounddevice  # imported here: optional, and it loads PortAudio

        self._rate = rate
        self._lock = threading.Lock()
        self._buffer: collections.deque[np.ndarray] = collections.deque()
        self._buffered = 0
        self._stream = sounddevice.RawOutputStream(samplerate=rate, channels=1, dtype="int16", callback=self._callback)
        self._stream.start()

    def write(self, pcm: bytes) -> None:
        chunk = np.frombuffer(pcm, dtype=np.int16)
        with self._lock:
            self._buffer.append(chunk)
            self._buffered += len(chunk)
            while self._buffered > MAX_BUFFER_S * self._rate and len(self._buffer) > 1:
                self._buffered -= len(self._buffer.popleft())

    def _callback(self, out: memoryview, frames: int, _time: object, _status: object) -> None:
        data = np.zeros(frames, dtype=np.int16)
        filled = 0
        with self._lock:
            while filled < frames and self._buffer:
                head = self._buffer[0]
                take = min(frames - filled, len(head))
                data[filled : filled + take] = head[:take]
                filled += take
                if take == len(head):
                    self._buffer.popleft()
                else:
                    self._buffer[0] = head[take:]
                self._buffered -= take
        out[:] = data.tobytes()

    def close(self) -> None:
        if self._stream.closed:
            return
        self._stream.stop()
        self._stream.close()
