"""Measures of an animated face taken from its output frames, for `memoria bench animator`.

Pure numpy on landmark tracks and audio, so each figure can be tested on synthetic tracks.
"""

from __future__ import annotations

import numpy as np

from server.face import topology as T

# Landmarks that move only with the head (not with mouth, lids or brows) and that the mesh places
# precisely (eye corners, nose): jitter is measured on these. Contour points are left out: the
# detector slides them along the jaw and cheeks even on a still photo.
STABLE = (1, 4, 5, 6, 168, 197, 195, 33, 133, 362, 263, 98, 327)


def frame_loudness(audio: np.ndarray, rate: int, frames: int, fps: int = 25) -> np.ndarray:
    """RMS level in dB (floored at -60) of each frame's share of the audio."""
    out = np.full(frames, -60.0)
    for i in range(frames):
        part = audio[round(i * rate / fps) : round((i + 1) * rate / fps)]
        if len(part):
            out[i] = max(-60.0, 20 * np.log10(float(np.sqrt(np.mean(part.astype(np.float64) ** 2))) + 1e-9))
    return out


def mouth_opening(tracks: np.ndarray) -> np.ndarray:
    """Inner-lip gap over the distance between the eyes, per frame (scale-free)."""
    gap = np.linalg.norm(tracks[:, T.LOWER_LIP_INNER] - tracks[:, T.UPPER_LIP_INNER], axis=1)
    eyes = np.linalg.norm(tracks[:, T.IRIS_RIGHT] - tracks[:, T.IRIS_LEFT], axis=1)
    ratio: np.ndarray = gap / np.maximum(eyes, 1e-6)
    return ratio


def mouth_gap_ratio(tracks: np.ndarray) -> np.ndarray:
    """Inner-lip gap as a share of the mouth's width (corner to corner), per frame: how visibly the
    mouth is open (~0.1 closed-lipped talk, 0.3+ clearly open vowels)."""
    gap = np.linalg.norm(tracks[:, T.LOWER_LIP_INNER] - tracks[:, T.UPPER_LIP_INNER], axis=1)
    width = np.linalg.norm(tracks[:, T.MOUTH_RIGHT] - tracks[:, T.MOUTH_LEFT], axis=1)
    ratio: np.ndarray = gap / np.maximum(width, 1e-6)
    return ratio


def articulation(
    ratio: np.ndarray, loudness_db: np.ndarray, *, speech_db: float = -35.0
) -> tuple[float | None, float | None]:
    """(p90 over speech frames, p90 over silent frames) of `mouth_gap_ratio`; None where there are none."""
    n = min(len(ratio), len(loudness_db))
    ratio, loud = ratio[:n], loudness_db[:n]
    speech, silent = ratio[loud > speech_db], ratio[loud <= speech_db - 10]

    def p90(values: np.ndarray) -> float | None:
        return round(float(np.percentile(values, 90)), 3) if len(values) else None

    return p90(speech), p90(silent)


def best_lag_corr(a: np.ndarray, b: np.ndarray, max_lag: int = 3) -> float:
    """The highest Pearson correlation of a[t] with b[t + lag] for |lag| <= max_lag."""
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        x = a[max(0, -lag) : len(a) - max(0, lag)]
        y = b[max(0, lag) : len(b) - max(0, -lag)]
        if len(x) > 2 and x.std() > 0 and y.std() > 0:
            best = max(best, float(np.corrcoef(x, y)[0, 1]))
    return best


def sync_z(
    opening: np.ndarray, loudness: np.ndarray, *, max_lag: int = 3, min_shift: int = 50, step: int = 5
) -> tuple[float, float, np.ndarray]:
    """(z, r): how far the true correlation stands above the same audio rotated in time.

    The null distribution is the best-lag correlation against every rotation of the loudness by
    at least `min_shift` frames (2 s), which keeps the audio's own rhythm but breaks its timing.
    Returns z, the true correlation, and the null correlations.
    """
    n = min(len(opening), len(loudness))
    a, b = opening[:n], loudness[:n]
    r = best_lag_corr(a, b, max_lag)
    shifts = range(min_shift, n - min_shift + 1, step)
    null = np.array([best_lag_corr(a, np.roll(b, s), max_lag) for s in shifts])
    if len(null) < 5 or null.std() == 0:
        raise ValueError("the clip is too short for a sync z-score: use 20 s or more")
    return float((r - null.mean()) / null.std()), r, null


def mismatch_z(opening: np.ndarray, other_loudness: list[np.ndarray], null: np.ndarray, max_lag: int = 3) -> float:
    """Mean z of the correlation against other sentences, on the true clip's null distribution."""
    zs = []
    for loud in other_loudness:
        n = min(len(opening), len(loud))
        zs.append((best_lag_corr(opening[:n], loud[:n], max_lag) - null.mean()) / null.std())
    return float(np.mean(zs))


def still_frames(opening: np.ndarray, tol: float = 0.01) -> np.ndarray:
    """Frames t where the mouth opening hardly changes over t-1..t+1 (indices into the track)."""
    if len(opening) < 3:
        return np.zeros(0, np.int64)
    d = np.abs(np.diff(opening))
    ok = (d[:-1] < tol) & (d[1:] < tol)
    return np.flatnonzero(ok) + 1


def jitter_px(tracks: np.ndarray, frames: np.ndarray) -> float:
    """RMS of the non-smooth part of stable landmarks, p[t] - (p[t-1] + p[t+1]) / 2, in pixels.

    Smooth head motion cancels in the second difference; what is left is the frame-to-frame
    shake a viewer sees as jitter (rendering noise plus the detector's own noise).
    """
    frames = frames[(frames > 0) & (frames < len(tracks) - 1)]
    if len(frames) == 0:
        return float("nan")
    p = tracks[:, list(STABLE)]
    resid = p[frames] - (p[frames - 1] + p[frames + 1]) / 2
    return float(np.sqrt(np.mean(np.sum(resid**2, axis=-1))))


def motion_px(tracks: np.ndarray, frames: np.ndarray) -> float:
    """Mean frame-to-frame movement of the stable landmarks (head motion included), pixels."""
    frames = frames[frames > 0]
    if len(frames) == 0:
        return float("nan")
    p = tracks[:, list(STABLE)]
    return float(np.mean(np.linalg.norm(p[frames] - p[frames - 1], axis=-1)))
