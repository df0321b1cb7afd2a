"""One eye for one frame: the upper lid slides down over the eye (blink) or up (surprise), the
skin above it stretching; the eye's content can shift a little inside the lids (gaze)."""

from __future__ import annotations

import numpy as np

from plugins.warp.geometry import smoothstep
from plugins.warp.regions import EyeRig


def warp_eye(
    e: EyeRig, qx: np.ndarray, qy: np.ndarray, blink: float, widen: float, gaze: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Source coordinates for the eye's box and the lid skin's opacity over it (None if open).

    blink 0..1 closes the eye, widen 0..0.3 opens it further.
    """
    n = len(e.lid_up)
    idx = np.clip((qx + 0.5 - e.x0).astype(np.int32), 0, n - 1)
    up, low = e.lid_up[idx], e.lid_low[idx]
    opening = low - up
    drop = (0.97 * blink - widen) * opening
    new_up = up + drop
    top = up - e.crease
    above = qy < new_up
    # The lash line slides down unstretched; the lid skin above it stretches to cover the eye.
    lash = 0.07 * e.width
    skin = np.clip((qy - top) / np.maximum(new_up - lash - top, 1.0), 0.0, 1.0)
    src_above = np.where(qy >= new_up - lash, qy - drop, np.where(qy > top, top + skin * (up - lash - top), qy))
    if widen > blink:  # the lid rose: stretch the visible eye over the taller opening
        src_eye = low - (low - qy) * opening / np.maximum(low - new_up, 0.5)
    else:
        src_eye = qy
    sy = np.where(above, src_above, np.where(qy <= low, src_eye, qy))
    sx = qx
    if gaze != (0.0, 0.0):
        inside = smoothstep((qy - new_up) / 2.0) * smoothstep((low - qy) / 2.0) * e.across[idx] ** 2
        sx = qx - gaze[0] * 0.14 * e.width * inside
        sy = sy - gaze[1] * 0.08 * e.width * inside
    cover = None
    if blink > 0.05:
        # Stretched lid skin carries the photo's lid shadows with it: over the eye it is evened
        # out towards the lid's own colour, leaving the lash line dark.
        cover = smoothstep((qy - up + 1.0) / 3.0) * smoothstep((new_up - lash - qy) / 2.0) * e.across[idx] ** 0.5
        cover *= 0.75 * min(1.0, blink * 1.5)
    return sx, sy, cover
