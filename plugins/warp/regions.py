"""Per-column tables for the two regions that need sharp, per-frame warps: mouth/jaw and eyes.

Lips and lids are curves; storing each as "y at every column" lets a frame find, for any pixel,
whether it is above or below a lip in one table lookup instead of a polygon test.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from plugins.warp.geometry import column_table
from server.face import topology as T

FAR_STEP = 4  # the jaw's broad motion is computed on cells this many pixels wide


@dataclasses.dataclass
class MouthRig:
    """The mouth and jaw region of the aligned photo (output pixels)."""

    x0: int
    x1: int
    y0: int
    y1: int
    y_up: np.ndarray  # inner edge of the upper lip, per column
    y_low: np.ndarray  # inner edge of the lower lip
    y_split: np.ndarray  # where the face splits into upper and lower parts (lips, then the corner line)
    gap0: np.ndarray  # the photo's own opening per column (0 where closed)
    lip_up: np.ndarray  # thickness of the upper lip per column
    lip_low: np.ndarray  # thickness of the lower lip per column
    jaw: np.ndarray  # share of the chin's drop each column follows
    wedge: np.ndarray  # beside the mouth: rows over which the cheek blends into the jaw's motion
    inner: np.ndarray  # 1 between the inner mouth corners, 0 outside
    widen: np.ndarray  # how much each column takes part in mouth-width changes
    cx: float
    half_w: float  # half the inner mouth width
    mouth_w: float  # outer corner to corner
    y_nose: float
    y_chin: float
    fade: float  # rows below the chin over which the jaw's motion fades into the neck
    band_top: float
    band_bottom: float
    lips: np.ndarray  # (y0, y1, x0, x1) of the lips box inside the region, where the detail is worked out
    cavity: np.ndarray  # RGB float32 colours of the drawn mouth interior
    teeth: np.ndarray
    tongue: np.ndarray
    gum: np.ndarray


@dataclasses.dataclass
class EyeRig:
    """One eye: lid curves per column and the box the lid warp touches."""

    x0: int
    x1: int
    y0: int
    y1: int
    lid_up: np.ndarray
    lid_low: np.ndarray
    across: np.ndarray  # 1 at the eye's middle, 0 at and beyond its corners
    crease: float  # rows above the upper lid that stretch when it closes
    width: float
    lid_colour: np.ndarray  # RGB float32 of the lid skin, laid over a closing eye


def build_mouth(base: np.ndarray, pts: np.ndarray, face_w: float) -> MouthRig:
    h, w = base.shape[:2]
    ml, mr = pts[T.MOUTH_LEFT], pts[T.MOUTH_RIGHT]
    mouth_w = float(np.linalg.norm(mr - ml))
    # The opening spans the outer corners: mediapipe's inner corners sit a little inside them,
    # and a smile's dark corners between the two must close and open with the rest.
    cx = float((ml[0] + mr[0]) / 2)
    half_w = max(2.0, float(abs(mr[0] - ml[0]) / 2) * 0.92)
    oval = pts[list(T.FACE_OVAL)]
    y_chin = float(pts[T.CHIN, 1])
    fade = 0.30 * face_w
    # The jaw's share fades out 1.6 half-faces from the centre; the box reaches past that (and
    # past the neck fade) by a margin for head motion, so its edges never cut a moving field.
    rows = (oval[:, 1] > ml[1]) & (oval[:, 1] < y_chin)
    side = oval[rows, 0] if rows.any() else oval[:, 0]
    half_face = max(float(side.max() - side.min()) / 2, half_w * 1.5)
    margin = 0.04 * face_w + 4
    x0 = int(max(0, np.floor(cx - 1.6 * half_face - margin)))
    x1 = int(min(w, np.ceil(cx + 1.6 * half_face + margin)))
    y0 = int(max(0, np.floor(pts[T.NOSE_TIP, 1] - margin)))
    y1 = int(min(h, np.ceil(y_chin + fade + margin)))
    x1 -= (x1 - x0) % FAR_STEP  # whole coarse cells: the jaw's smooth field is worked out on them
    y1 -= (y1 - y0) % FAR_STEP

    up = column_table(np.concatenate([[ml], pts[list(T.LIPS_INNER_UPPER)], [mr]]), x0, x1)
    low = column_table(np.concatenate([[mr], pts[list(T.LIPS_INNER_LOWER)], [ml]]), x0, x1)
    cols = np.arange(x0, x1, dtype=np.float32)
    inner = (np.abs(cols - cx) < half_w).astype(np.float32)
    mid = np.concatenate([[ml], (pts[list(T.LIPS_INNER_UPPER)] + pts[list(T.LIPS_INNER_LOWER)[::-1]]) / 2, [mr]])
    split = column_table(mid, x0, x1)
    gap0 = np.maximum(low - up, 0.0) * inner
    mouth_w0 = float(np.linalg.norm(mr - ml))
    if gap0.max() < 0.06 * mouth_w0:  # a closed photo: its thin lip seam is not an interior to reuse
        gap0[:] = 0.0
    up = np.where(inner > 0, up, split)
    low = np.where(inner > 0, np.maximum(low, up), split)
    outer_up = column_table(pts[list(T.LIPS_OUTER_UPPER)], x0, x1)
    outer_low = column_table(pts[list(T.LIPS_OUTER_LOWER)], x0, x1)
    lip_up = np.clip(up - outer_up, 1.0, None)
    lip_low = np.clip(outer_low - low, 1.0, None)

    # The jaw hinges near the ears: the chin drops most, the jaw's sides less.
    d = np.abs(cols - cx) / half_face
    beyond = np.clip(1 - (d - 1) / 0.6, 0, 1)
    jaw = np.where(
        d < 1, 0.35 + 0.65 * np.cos(np.pi / 2 * np.clip(d, 0, 1)) ** 2, 0.35 * beyond * beyond * (3 - 2 * beyond)
    )
    outer_half = mouth_w / 2
    beside = np.abs(cols - cx) - half_w
    wedge = np.where(inner > 0, 1.0, 1.2 * np.maximum(beside, 0) + 2.0)
    widen = np.clip(1 - (np.abs(cols - cx) - 1.05 * outer_half) / (0.4 * outer_half), 0, 1)  # 0 from 1.45 half-widths

    cavity, teeth, tongue, gum = _mouth_colours(base, pts, float(gap0.max()) / mouth_w)
    # The lips box: from the nose down past the lowest the lower lip can go (plus its blend
    # into the jaw), and sideways past the end of the width change.
    band_top = float(outer_up.min() - 0.15 * mouth_w)
    band_bottom = float(outer_low.max() + 0.1 * mouth_w)
    deepest = max(float(low.max()) + 0.4 * mouth_w + 1.3 * float(lip_low.max()), band_bottom + 0.15 * mouth_w)
    lips = np.array([
        max(0, int(np.floor(min(pts[2, 1], band_top) - 4)) - y0),
        min(y1, int(np.ceil(deepest + 4))) - y0,
        max(0, int(np.floor(cx - 1.5 * outer_half - 4)) - x0),
        min(x1, int(np.ceil(cx + 1.5 * outer_half + 4))) - x0,
    ], np.int64)  # fmt: skip
    return MouthRig(
        x0=x0, x1=x1, y0=y0, y1=y1,
        y_up=up.astype(np.float32), y_low=low.astype(np.float32), y_split=split.astype(np.float32),
        gap0=gap0.astype(np.float32), lip_up=lip_up.astype(np.float32), lip_low=lip_low.astype(np.float32),
        jaw=jaw.astype(np.float32), wedge=wedge.astype(np.float32), inner=inner, widen=widen.astype(np.float32),
        cx=cx, half_w=half_w, mouth_w=mouth_w,
        y_nose=float(pts[2, 1]), y_chin=y_chin, fade=fade,
        band_top=band_top, band_bottom=band_bottom, lips=lips,
        cavity=cavity, teeth=teeth, tongue=tongue, gum=gum,
    )  # fmt: skip


def _mouth_colours(base: np.ndarray, pts: np.ndarray, open_ratio: float) -> tuple[np.ndarray, ...]:
    """Interior colours taken from this photo: its lips, skin and, if visible, its teeth."""
    h, w = base.shape[:2]
    outer = np.zeros((h, w), np.uint8)
    cv2.fillPoly(outer, [np.round(pts[list(T.LIPS_OUTER_UPPER) + list(T.LIPS_OUTER_LOWER)]).astype(np.int32)], 1)
    inner = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inner, [np.round(pts[list(T.LIPS_INNER_UPPER) + list(T.LIPS_INNER_LOWER)]).astype(np.int32)], 1)
    lips = base[(outer > 0) & (inner == 0)].astype(np.float32)
    lip = np.median(lips, axis=0) if len(lips) else np.array([150, 80, 80], np.float32)
    cheek = pts[[205, 425]].mean(axis=0).astype(int)
    patch = base[max(0, cheek[1] - 4) : cheek[1] + 4, max(0, cheek[0] - 4) : cheek[0] + 4].reshape(-1, 3)
    skin = np.median(patch.astype(np.float32), axis=0) if len(patch) else lip
    light = float(np.clip(skin.mean() / 150.0, 0.55, 1.1))
    teeth = np.array([226, 218, 200], np.float32) * light * (skin / max(float(skin.mean()), 1.0)) ** 0.15
    if open_ratio > 0.05:  # the photo shows its teeth: use their real colour
        inside = base[inner > 0].astype(np.float32)
        bright = inside[inside.sum(axis=1) >= np.percentile(inside.sum(axis=1), 75)]
        if len(bright) >= 8 and bright.mean() > lip.mean():
            teeth = np.median(bright, axis=0)
    cavity = lip * 0.40 + np.array([6, 0, 2], np.float32)
    tongue = np.clip(lip * np.array([0.95, 0.72, 0.75], np.float32) + np.array([18, 4, 6], np.float32), 0, 255)
    gum = np.clip(lip * 0.9 + np.array([15, 0, 5], np.float32), 0, 255)
    return (
        cavity.astype(np.float32),
        np.clip(teeth, 0, 255).astype(np.float32),
        tongue.astype(np.float32),
        gum.astype(np.float32),
    )


def build_eye(base: np.ndarray, pts: np.ndarray, upper: tuple[int, ...], lower: tuple[int, ...]) -> EyeRig:
    h, w = base.shape[:2]
    ring = pts[list(upper) + list(lower)]
    a, b = pts[upper[0]], pts[upper[-1]]
    width = float(np.linalg.norm(b - a))
    left, right = float(min(a[0], b[0])), float(max(a[0], b[0]))
    x0 = int(max(0, np.floor(left - 0.3 * width)))
    x1 = int(min(w, np.ceil(right + 0.3 * width)))
    crease = 0.38 * width  # lid skin up to the crease; the brow above stays put
    margin = 0.15 * width + 4  # room for head and brow motion inside the box
    y0 = int(max(0, np.floor(ring[:, 1].min() - crease - margin)))
    y1 = int(min(h, np.ceil(ring[:, 1].max() + 0.25 * width + margin)))
    lid_up = column_table(pts[list(upper)], x0, x1)
    lid_low = column_table(pts[list(lower)], x0, x1)
    cols = np.arange(x0, x1, dtype=np.float32)
    u = (cols - (left + right) / 2) / max((right - left) / 2, 1.0)
    across = np.clip(1 - u * u, 0, 1) ** 0.5
    # The lid skin: a band a little above the lash line, across the eye's middle.
    middle = np.abs(u) < 0.6
    band = [
        base[round(y - 0.22 * width) : round(y - 0.12 * width) + 1, x0 + i] for i, y in enumerate(lid_up) if middle[i]
    ]
    pixels = (
        np.concatenate([b for b in band if len(b)]) if any(len(b) for b in band) else base[y0:y1, x0:x1].reshape(-1, 3)
    )
    lid_colour = np.median(pixels.astype(np.float32), axis=0)
    return EyeRig(x0=x0, x1=x1, y0=y0, y1=y1, lid_up=lid_up, lid_low=np.maximum(lid_low, lid_up),
                  across=across.astype(np.float32), crease=crease, width=width, lid_colour=lid_colour.astype(np.float32))  # fmt: skip
