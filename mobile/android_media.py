"""Android's camera, mic, speaker and network changes, through pyjnius (imported only on Android).

NOT VERIFIED: no Android device or emulator can run on the machines this was written on; the
Java calls follow the Android SDK documentation (AudioRecord, AudioTrack, ConnectivityManager)
and python-for-android's `android` module. See mobile/README.md for what to check on a phone.
"""

from __future__ import annotations

import asyncio
import fractions
import threading
from collections.abc import Callable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

RATE = 48_000
FRAME = RATE // 50  # 20 ms


def request_permissions(on_done: Callable[[bool], None]) -> None:
    """Ask for the camera and the mic once, at start-up (Android 6+ asks at run time)."""
    from android.permissions import Permission
    from android.permissions import request_permissions as ask

    ask([Permission.CAMERA, Permission.RECORD_AUDIO], lambda _perms, results: on_done(all(results)))


class AndroidMicTrack(MediaStreamTrack):
    """AudioRecord (voice-communication source: echo cancellation on) read on a thread."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        from jnius import autoclass

        AudioRecord = autoclass("android.media.AudioRecord")
        AudioFormat = autoclass("android.media.AudioFormat")
        AudioSource = autoclass("android.media.MediaRecorder$AudioSource")
        size = max(
            AudioRecord.getMinBufferSize(RATE, AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT), FRAME * 8
        )
        self._record = AudioRecord(
            AudioSource.VOICE_COMMUNICATION, RATE, AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT, size
        )
        self._loop: asyncio.AbstractEventLoop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=50)
        self._running = True
        self._pts = 0
        self._record.startRecording()
        self._thread = threading.Thread(target=self._read, name="android-mic", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        buffer = bytearray(FRAME * 2)
        while self._running:
            got = self._record.read(buffer, 0, len(buffer))  # pyjnius copies byte[] back into a bytearray
            if got <= 0:
                break
            data = bytes(buffer[:got])
            self._loop.call_soon_threadsafe(self._offer, data)
        self._loop.call_soon_threadsafe(self._offer, None)

    def _offer(self, data: bytes | None) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # drop the oldest rather than fall behind
        self._queue.put_nowait(data)

    async def recv(self) -> av.AudioFrame:
        data = await self._queue.get()
        if data is None or self.readyState != "live":
            raise MediaStreamError
        pcm = np.frombuffer(data, np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, self._pts, fractions.Fraction(1, RATE)
        self._pts += pcm.shape[1]
        return frame

    def stop(self) -> None:
        super().stop()
        if self._running:
            self._running = False
            self._record.stop()
            self._record.release()


class AndroidAudioOutput:
    """AudioTrack in streaming mode on the voice-call stream (earpiece/speaker routing by Android)."""

    def __init__(self, rate: int) -> None:
        from jnius import autoclass

        AudioTrack = autoclass("android.media.AudioTrack")
        AudioFormat = autoclass("android.media.AudioFormat")
        AudioManager = autoclass("android.media.AudioManager")
        size = max(
            AudioTrack.getMinBufferSize(rate, AudioFormat.CHANNEL_OUT_MONO, AudioFormat.ENCODING_PCM_16BIT), rate // 5
        )
        self._track = AudioTrack(
            AudioManager.STREAM_VOICE_CALL,
            rate,
            AudioFormat.CHANNEL_OUT_MONO,
            AudioFormat.ENCODING_PCM_16BIT,
            size,
            AudioTrack.MODE_STREAM,
        )
        self._non_blocking = AudioTrack.WRITE_NON_BLOCKING
        self._track.play()
        self._closed = False

    def write(self, pcm: bytes) -> None:
        if not self._closed:
            self._track.write(bytearray(pcm), 0, len(pcm), self._non_blocking)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._track.stop()
            self._track.release()


def android_source(kind: str) -> MediaStreamTrack:
    """The phone's mic, or its front camera through Kivy's Camera widget."""
    if kind == "audio":
        return AndroidMicTrack()
    from kivy.uix.camera import Camera

    from mobile.rtc.kivy_camera import KivyCameraTrack

    return KivyCameraTrack(Camera(index=1, resolution=(640, 480), play=True))  # 1: the front camera


def watch_network(on_change: Callable[[], None]) -> object:
    """Call `on_change` when the phone changes network (Wi-Fi <-> mobile data); keep the result alive."""
    from android.broadcast import BroadcastReceiver

    receiver = BroadcastReceiver(
        lambda _context, _intent: on_change(), actions=["android.net.conn.CONNECTIVITY_CHANGE"]
    )
    receiver.start()
    return receiver
