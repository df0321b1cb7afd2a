"""Figures from the user's side of a loopback call: reply latency, A/V offset, barge-in, frame rate.

Everything is measured on arrival times at the client (what an aiortc client such as the phone
app plays), never on the server's own clocks.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from server.rtc.client import Received

SPEECH_PEAK = 1500  # int16 peak above which a received 20 ms frame counts as the avatar speaking


def speech_frames(received: Received, since: float = 0.0) -> list[tuple[float, bool]]:
    levels = received.audio_levels
    start = bisect.bisect_right(levels, since, key=lambda level: level[0])
    return [(t, peak > SPEECH_PEAK) for t, peak, _ in levels[start:]]


def first_speech_after(received: Received, since: float) -> float | None:
    """Arrival time of the first avatar audio frame with speech after `since`."""
    return next((t for t, loud in speech_frames(received, since) if loud), None)


def motion(received: Received) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times of video frames and how much each changed from the one before (mean abs, 0-255)."""
    if not received.video_motion:
        return np.zeros(0), np.zeros(0)
    times, values = zip(*received.video_motion, strict=True)
    return np.asarray(times), np.asarray(values)


def first_moving_frame_after(received: Received, since: float, *, factor: float = 4.0) -> float | None:
    """Arrival time of the first frame after `since` that moves far more than the idle face did."""
    times, values = motion(received)
    if len(times) == 0:
        return None
    before = values[(times <= since) & (times > since - 2.0)]
    idle = float(np.median(before)) if len(before) else float(np.median(values))
    later = np.nonzero((times > since) & (values > max(idle * factor, 0.3)))[0]
    return float(times[later[0]]) if len(later) else None


def av_offset_ms(received: Received) -> float | None:
    """How much later a moment of the avatar's video reaches the client than the same moment of its
    voice (ms, median; negative: the face is early). None without enough of both.

    Moments are matched by RTP timestamps counted from each track's first frame (both tracks start
    at the same instant of the call: video frame j is audio sample j*1920), and times are arrivals,
    which is when an aiortc client such as the phone app plays them.
    """
    if len(received.audio_stamps) < 25 or len(received.video_stamps) < 25:
        return None
    a_time, a_moment = _moments(received.audio_stamps, 48000)
    v_time, v_moment = _moments(received.video_stamps, 90000)
    inside = v_moment <= a_moment[-1]
    if inside.sum() < 10:
        return None
    audio_time = np.interp(v_moment[inside], a_moment, a_time)
    return round(float(np.median(v_time[inside] - audio_time)) * 1000.0, 1)


def _moments(stamps: list[tuple[float, int]], clock: int) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times and the call moment (seconds since the track's first frame) of each frame."""
    times = np.asarray([t for t, _ in stamps])
    rtp = np.asarray([pts for _, pts in stamps], dtype=np.int64)
    moments = ((rtp - rtp[0]) % 2**32) / clock
    order = np.argsort(moments, kind="stable")
    return times[order], moments[order]


def audio_arrival(received: Received, moment_s: float) -> float | None:
    """When the audio for `moment_s` (seconds since the call's first audio frame) reached the client."""
    if len(received.audio_stamps) < 2:
        return None
    times, moments = _moments(received.audio_stamps, 48000)
    if moment_s > moments[-1]:
        return None
    return float(np.interp(moment_s, moments, times))


def fps(received: Received) -> float:
    times = [t for t, _ in received.video_motion]
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values), q)) if values else None
