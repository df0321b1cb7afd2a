"""PyAV frames <-> the pipeline's plain arrays: the media types of WebRTC stay in server/rtc."""

from __future__ import annotations

import av
import numpy as np


def frame_to_mono(frame: av.AudioFrame) -> np.ndarray:
    """An incoming WebRTC audio frame (any layout, s16 or float) as mono int16 at its own rate."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        mono = data.mean(axis=0) if data.shape[0] > 1 else data[0]
    else:
        mono = data.reshape(-1, channels).mean(axis=1) if channels > 1 else data.reshape(-1)
    if data.dtype.kind == "f":
        mono = np.clip(mono, -1.0, 1.0) * 32767.0
    return np.asarray(mono).astype(np.int16)
