"""Small geometry helpers shared by the rig builders: polylines as per-column tables, soft masks."""

from __future__ import annotations

import cv2
import numpy as np


def column_table(points: np.ndarray, x0: int, x1: int) -> np.ndarray:
    """y of a left-to-right polyline at every integer column x0..x1-1 (held flat past its ends)."""
    pts = np.asarray(points, np.float64)
    order = np.argsort(pts[:, 0], kind="stable")
    xs, ys = pts[order, 0], pts[order, 1]
    xs = xs + np.arange(len(xs)) * 1e-6  # np.interp needs increasing x
    table: np.ndarray = np.interp(np.arange(x0, x1, dtype=np.float64), xs, ys).astype(np.float32)
    return table


def soft_polygon(points: np.ndarray, shape: tuple[int, int], blur: float, scale: float = 1.0) -> np.ndarray:
    """A filled polygon as a float32 mask in [0, 1], blurred by `blur` pixels (Gaussian sigma).

    `scale` draws on a grid `scale` times the pixel grid (coarse fields are built at 1/4 scale).
    """
    mask = np.zeros(shape, np.uint8)
    poly = np.round(np.asarray(points, np.float64) * scale * 8).astype(np.int32)
    cv2.fillPoly(mask, [poly], 255, lineType=cv2.LINE_AA, shift=3)
    out: np.ndarray = mask.astype(np.float32) / 255.0
    sigma = blur * scale
    if sigma > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    return out


def gaussian(xx: np.ndarray, yy: np.ndarray, cx: float, cy: float, sx: float, sy: float) -> np.ndarray:
    """An axis-aligned Gaussian bump with peak 1 at (cx, cy)."""
    return np.exp(-0.5 * (((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2)).astype(np.float32)


def scale_about(points: np.ndarray, centre: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Points scaled about a centre, separately in x and y."""
    out = np.asarray(points, np.float64).copy()
    out[:, 0] = centre[0] + (out[:, 0] - centre[0]) * sx
    out[:, 1] = centre[1] + (out[:, 1] - centre[1]) * sy
    return out


def smoothstep(x: np.ndarray) -> np.ndarray:
    """3x^2 - 2x^3 on [0, 1], clipped; soft edges without a visible seam."""
    t = np.clip(x, 0.0, 1.0)
    out: np.ndarray = t * t * (3.0 - 2.0 * t)
    return out
