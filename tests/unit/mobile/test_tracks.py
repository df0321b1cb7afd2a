"""What the app sends: one audio format from start to end (the Opus encoder refuses a change),
lead silence, the source, then silence that keeps the server's endpointer going; timestamps from
sample counts; the camera turns black when switched off but never stops."""

from __future__ import annotations

import fractions

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from mobile.rtc.tracks import AUDIO_RATE, CameraTrack, MicTrack


class StereoClip(MediaStreamTrack):
    """A short loud stereo 44.1 kHz clip (a different format from what we send), then the end."""

    kind = "audio"

    def __init__(self, frames: int) -> None:
        super().__init__()
        self.left = frames
        self.pts = 0

    async def recv(self) -> av.AudioFrame:
        if self.left == 0:
            raise MediaStreamError
        self.left -= 1
        pcm = np.full((1, 1024 * 2), 12000, np.int16)  # packed stereo: one row of L,R pairs
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = 44_100, self.pts, fractions.Fraction(1, 44_100)
        self.pts += 1024
        return frame


async def test_mic_sends_one_format_with_lead_and_tail_silence() -> None:
    mic = MicTrack(StereoClip(frames=20), lead_s=0.1)
    mic._pacer.wait_until = _no_wait  # type: ignore[method-assign]  # test at full speed
    frames = [await mic.recv() for _ in range(60)]
    assert {(f.format.name, f.layout.name, f.sample_rate, f.samples) for f in frames} == {
        ("s16", "mono", AUDIO_RATE, 960)
    }
    assert [f.pts for f in frames] == [i * 960 for i in range(60)]
    loud = [int(np.abs(f.to_ndarray()).max()) > 5000 for f in frames]
    assert loud[:5] == [False] * 5  # 0.1 s of lead silence
    assert any(loud[5:10]) and loud[-10:] == [False] * 10  # the clip, then silence after its end
    assert mic.source_ended
    clip_frames = 20 * 1024 / 44_100 / 0.020  # the clip's length in our 20 ms frames
    assert abs(sum(loud) - clip_frames) <= 2


async def test_muting_keeps_time_and_sends_zeros() -> None:
    mic = MicTrack(StereoClip(frames=50))
    mic._pacer.wait_until = _no_wait  # type: ignore[method-assign]
    mic.muted = True
    frames = [await mic.recv() for _ in range(10)]
    assert all(not f.to_ndarray().any() for f in frames) and mic.level == 0.0
    assert frames[-1].pts == 9 * 960


class Clip(MediaStreamTrack):
    kind = "video"

    async def recv(self) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(np.full((48, 64, 3), 200, np.uint8), format="rgb24")


async def test_camera_off_sends_black_frames_of_the_same_size() -> None:
    previews: list[av.VideoFrame] = []
    camera = CameraTrack(Clip(), on_preview=previews.append, preview_every=1)
    camera._pacer.wait_until = _no_wait  # type: ignore[method-assign]
    on = await camera.recv()
    camera.enabled = False
    off = await camera.recv()
    assert on.to_ndarray(format="rgb24").mean() > 150 and off.to_ndarray(format="rgb24").max() == 0
    assert (off.width, off.height) == (64, 48) and off.pts > on.pts
    assert len(previews) == 1  # no preview of the black frames


async def _no_wait(seconds: float) -> None:
    return None
