"""Mouth shapes from the voice's audio when no phoneme timings come with it.

Loudness (normalised against a slowly decaying peak, so any recording level works) opens the
jaw; energy above 3 kHz (s, sh, f) narrows the opening and spreads the lips; energy kept low in the
spectrum (o, u) rounds them. One frame of look-ahead lets a centred smoothing add no delay.
"""

from __future__ import annotations

import math

import numpy as np

from plugins.warp.mouth import MouthShape

FLOOR_DB = -55.0  # below this a frame is silence, whatever the peak
RANGE_DB = 30.0  # levels this far under the running peak map to a closed mouth
PEAK_DECAY_DB = 0.08  # per frame (2 dB/s): a loud word does not mute the quieter ones after it
MAX_OPEN = 0.30


class AudioFeatures:
    """Per-frame features computed as each 40 ms of audio completes."""

    def __init__(self) -> None:
        self.peak_db = -25.0

    def frame(self, audio: np.ndarray, rate: int) -> tuple[float, float, float]:
        """(loudness 0..1, fricative 0..1, roundness 0..1) for one frame of float samples."""
        if len(audio) == 0:
            return 0.0, 0.0, 0.0
        rms = float(np.sqrt(np.mean(audio * audio)))
        level = 20.0 * math.log10(rms + 1e-9)
        self.peak_db = max(level, self.peak_db - PEAK_DECAY_DB, -45.0)
        if level < FLOOR_DB:
            return 0.0, 0.0, 0.0
        loud = min(1.0, max(0.0, (level - (self.peak_db - RANGE_DB)) / (RANGE_DB - 4.0)))
        spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)))) ** 2
        freqs = np.fft.rfftfreq(len(audio), 1.0 / rate)
        low = float(spectrum[(freqs >= 150) & (freqs < 900)].sum())
        mid = float(spectrum[(freqs >= 900) & (freqs < 2500)].sum())
        high = float(spectrum[(freqs >= 3000) & (freqs < min(8000, rate / 2))].sum())
        total = low + mid + high + 1e-12
        fricative = min(1.0, max(0.0, (high / total - 0.25) / 0.4))
        roundness = min(1.0, max(0.0, (low / (low + mid + 1e-12) - 0.78) / 0.17))
        return loud, fricative, roundness


def shape_from_features(
    prev: tuple[float, float, float], cur: tuple[float, float, float], nxt: tuple[float, float, float]
) -> MouthShape:
    """The mouth for the middle frame, smoothed over its neighbours (no lag)."""
    loud = 0.25 * prev[0] + 0.5 * cur[0] + 0.25 * nxt[0]
    fric = 0.25 * prev[1] + 0.5 * cur[1] + 0.25 * nxt[1]
    rnd = 0.25 * prev[2] + 0.5 * cur[2] + 0.25 * nxt[2]
    opening = MAX_OPEN * loud**0.9 * (1.0 - 0.55 * fric)
    return MouthShape(
        open=opening,
        jaw=1.0 - 0.6 * fric,
        spread=0.35 * fric - 0.2 * rnd,
        round=0.6 * rnd * min(1.0, loud * 2),
        tongue=0.4 * fric,
    )
