"""The mouth and jaw for one frame: the face splits at the inner-lip line, the upper lip and the
jaw move apart, and the opening between them is filled with a drawn interior (teeth, tongue,
shading) or, where the photo's own mouth was open, with the photo's own interior.

Everything works on arrays of "where this output pixel sits on the still face" (qx, qy), so the
mouth moves with the head.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from plugins.warp.geometry import smoothstep
from plugins.warp.regions import FAR_STEP, MouthRig


@dataclasses.dataclass(slots=True)
class MouthShape:
    """One frame's mouth, in units of the mouth's width where it is a length."""

    open: float = 0.0  # gap between the lips at the centre (0 closed, ~0.45 wide open)
    jaw: float = 1.0  # share of the opening made by dropping the jaw (rather than the lips alone)
    spread: float = 0.0  # lips stretched wide (ee, smile), -1..1
    round: float = 0.0  # lips rounded and pushed forward (oo, w), 0..1
    tongue: float = 0.0  # tongue tip raised to the teeth (l, t, d, n, th), 0..1
    tuck: float = 0.0  # lower lip under the upper teeth (f, v), 0..1


@dataclasses.dataclass(slots=True)
class Interior:
    """Colours to lay over the warped frame inside a box of the mouth region."""

    y0: int
    x0: int
    rgb: np.ndarray  # (h, w, 3) float32
    alpha: np.ndarray  # (h, w, 1) float32


def warp_mouth(
    m: MouthRig, qx: np.ndarray, qy: np.ndarray, s: MouthShape
) -> tuple[np.ndarray, np.ndarray, Interior | None]:
    """Source coordinates for the mouth region and the interior to draw over it.

    The jaw's broad motion is computed over the whole region; the lips' split, width change and
    interior only inside the smaller lips box, where they agree with the jaw at its edges.
    """
    mw, n = m.mouth_w, len(m.y_up)
    centre = int(np.clip(round(m.cx - m.x0), 0, n - 1))
    closing = s.open * mw < float(m.gap0[centre])  # closing a photo's open mouth is mostly the lips' work
    share_up = 0.45 if closing else 0.25 * s.jaw + 0.55 * (1.0 - s.jaw)
    chin_drop = (1.0 - share_up) * (s.open * mw - float(m.gap0[centre])) * (0.5 if closing else 0.4 + 0.6 * s.jaw)

    h, w = qx.shape
    sx = qx.copy()
    box = np.s_[m.lips[0] : m.lips[1], m.lips[2] : m.lips[3]]
    if chin_drop != 0.0:
        # Outside the lips box the jaw's motion is smooth: work it out per 4x4 cell, upsample.
        size = (w // FAR_STEP, h // FAR_STEP)
        cx = cv2.resize(qx, size, interpolation=cv2.INTER_AREA)
        cy = cv2.resize(qy, size, interpolation=cv2.INTER_AREA)
        drop = chin_drop * _jaw_share(m, cx, cy)
        sy = qy - cv2.resize(drop, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        sy = qy.copy()
    lbox_y, lbox_x = qy[box], qx[box]
    neck = np.clip(1.0 - (lbox_y - m.y_chin) / m.fade, 0.0, 1.0)
    lx, ly, interior = _lips(m, s, lbox_x, lbox_y, neck, share_up, chin_drop)
    sx[box] = lx
    sy[box] = ly
    if interior is not None:
        interior.y0 += m.lips[0]
        interior.x0 += m.lips[2]
    return sx, sy, interior


def _jaw_share(m: MouthRig, qx: np.ndarray, qy: np.ndarray) -> np.ndarray:
    """How much of the chin's drop each point follows: all of it below the mouth, less towards
    the jaw's hinges, blending in under the mouth corners and fading into the neck."""
    idx = np.clip((qx + 0.5 - m.x0).astype(np.int32), 0, len(m.y_up) - 1)
    neck = np.clip(1.0 - (qy - m.y_chin) / m.fade, 0.0, 1.0)
    lateral = np.clip((qy - m.y_split[idx]) / m.wedge[idx], 0.0, 1.0)
    share: np.ndarray = m.jaw[idx] * lateral * neck
    return share


def _lips(
    m: MouthRig, s: MouthShape, qx: np.ndarray, qy: np.ndarray, neck: np.ndarray, share_up: float, chin_drop: float
) -> tuple[np.ndarray, np.ndarray, Interior | None]:
    """The detailed mouth inside the lips box: split at the lips, width, rounding, interior."""
    mw, n = m.mouth_w, len(m.y_up)
    k = 1.0 + 0.12 * s.spread - 0.22 * s.round
    band = smoothstep((qy - m.band_top) / (0.15 * mw)) * smoothstep((m.band_bottom - qy) / (0.15 * mw))
    first = np.clip((qx - m.x0).astype(np.int32), 0, n - 1)
    sx = qx + (m.cx + (qx - m.cx) / k - qx) * m.widen[first] * band
    idx = np.clip((sx + 0.5 - m.x0).astype(np.int32), 0, n - 1)

    u = (sx - m.cx) / m.half_w
    u2 = u * u
    profile = np.clip(1.0 - u2, 0.0, 1.0)
    profile = profile ** (0.65 - 0.3 * s.round)  # closes towards the corners; rounder when rounded
    gap = s.open * mw * profile
    gap0 = m.gap0[idx]
    delta = gap - gap0
    d_up = share_up * delta + s.tuck * 0.04 * mw * profile
    d_low = delta - d_up
    y_up = m.y_up[idx] - d_up
    y_low = m.y_low[idx] + d_low
    jaw = chin_drop * m.jaw[idx]
    inner = m.inner[idx] > 0

    # Above the opening: the upper lip lifts, the skin up to the nose stretches.
    ramp = np.clip((qy - m.y_nose) / np.maximum(y_up - m.y_nose, 1.0), 0.0, 1.0)
    src_up = qy + d_up * ramp
    # Below it: the lower lip drops with the jaw; beside the mouth the cheek blends in.
    lip_t = m.lip_low[idx]
    s_low = np.clip((qy - y_low) / (1.3 * lip_t), 0.0, 1.0)
    lateral = np.clip((qy - m.y_split[idx]) / m.wedge[idx], 0.0, 1.0)
    drop = np.where(inner, d_low * (1.0 - s_low) + jaw * s_low, jaw * lateral)
    src_low = qy - drop * neck
    if s.round > 0:  # rounded lips push forward and look fuller
        grow = 0.28 * s.round / (1.0 + 0.28 * s.round)
        t_up = m.lip_up[idx]
        d = y_up - qy
        src_up += grow * np.clip(d, 0, t_up) * np.clip(1.0 - (d - t_up) / (1.2 * t_up), 0.0, 1.0)
        d = qy - y_low
        src_low -= grow * np.clip(d, 0, lip_t) * np.clip(1.0 - (d - lip_t) / (1.2 * lip_t), 0.0, 1.0)

    above = qy < np.where(inner, y_up, m.y_split[idx])
    below = inner & (qy > y_low)
    d_top, d_bot = qy - y_up, y_low - qy
    in_gap = inner & ~above & ~below
    src_gap = np.where(d_top < gap / 2, qy + d_up, qy - d_low)
    sy = np.where(above, src_up, np.where(below, src_low, np.where(in_gap, src_gap, src_low)))

    # Where the photo had its own opening, its teeth ride with the lips; the rest is drawn.
    # The photo's own interior is mostly upper teeth, which belong to the upper jaw.
    h_top = np.minimum(gap, gap0)
    # Fully opaque where the map switches between lip and opening (hiding that hard step), fading
    # out over 1.4 px into the lips, which reads as the lips' shaded inner rim.
    alpha = smoothstep((d_top - h_top) / 1.4 + 1.0) * smoothstep(d_bot / 1.4 + 1.0) * inner * np.clip(gap, 0.0, 1.0)
    if gap0.max() > 0:
        # Lips pressed together over the photo's opening meet along a hard, stepped edge: a soft
        # dark seam, as real closed lips show, hides it.
        squeeze = np.clip(-delta / 2.0, 0.0, 1.0) * np.clip(1.0 - gap / 2.0, 0.0, 1.0)
        seam = 0.55 * np.exp(-0.5 * ((qy - 0.5 * (y_up + y_low)) / 0.8) ** 2) * squeeze * np.clip(profile * 4, 0, 1)
        alpha = np.maximum(alpha, seam * inner)
    rows = np.flatnonzero(alpha.max(axis=1) > 0.004)
    if len(rows) == 0:
        return sx, sy, None
    cols = np.flatnonzero(alpha.max(axis=0) > 0.004)
    box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    rgb = _draw_interior(m, s, sx[box], qy[box], u2[box], y_up[box], y_low[box], gap[box])
    return sx, sy, Interior(y0=int(rows[0]), x0=int(cols[0]), rgb=rgb, alpha=alpha[box][:, :, None])


def _draw_interior(
    m: MouthRig,
    s: MouthShape,
    sx: np.ndarray,
    qy: np.ndarray,
    u2: np.ndarray,
    y_up: np.ndarray,
    y_low: np.ndarray,
    gap: np.ndarray,
) -> np.ndarray:
    """Cavity, tongue, lower and upper teeth, back to front, with soft edges and shading."""
    mw = m.mouth_w
    d_top, d_bot = qy - y_up, y_low - qy
    across = np.clip(1.0 - u2, 0.0, 1.0)
    depth = np.clip(np.minimum(d_top, d_bot) / (0.5 * gap + 1.0), 0.0, 1.0)
    rgb = m.cavity * ((1.0 - 0.45 * u2) * (1.0 - 0.25 * depth))[..., None]

    wide = float(np.clip((s.open - 0.08) / 0.12, 0.0, 1.0))
    if wide > 0:  # the tongue shows once the mouth is open enough
        top = y_low - gap * (0.38 + 0.45 * s.tongue) + 0.5 * gap * u2
        a = smoothstep((qy - top) / 1.5 + 0.5) * across**0.5 * wide
        # The tongue's far edge is in the mouth's shadow; its front catches light.
        shade = (0.55 + 0.35 * np.clip((qy - top) / (0.4 * gap + 1.0), 0.0, 1.0)) * (1.0 - 0.4 * u2)
        rgb += (m.tongue * shade[..., None] - rgb) * a[..., None]
    lower = float(np.clip((s.open - 0.16) / 0.12, 0.0, 1.0)) * s.jaw
    if lower > 0:  # lower incisors peek over the lower lip only when the jaw drops far
        low_h = 0.035 * mw * across**3 * lower
        a = smoothstep((low_h - d_bot) / 1.2 + 0.5) * (low_h > 0.7) * 0.8
        rgb += (m.teeth * (0.88 * (1.0 - 0.6 * u2))[..., None] - rgb) * a[..., None]

    if m.gap0.max() > 0:  # the photo's own upper teeth are shown instead
        shaded: np.ndarray = rgb * (0.78 + 0.22 * smoothstep(np.minimum(d_top, d_bot) / 2.5))[..., None]
        return shaded
    tooth_w = 0.17 * mw
    phase = 0.5 + 0.5 * np.cos(2 * np.pi * (sx - m.cx) / tooth_w)  # 1 between two teeth
    # Each tooth's biting edge is rounded at its corners: a little shorter between teeth.
    up_h = 0.12 * mw * across**0.3 * (1.0 - 0.12 * phase**6)
    gaps = 1.0 - 0.08 * phase**12
    edge = 1.0 - 0.2 * smoothstep((d_top - up_h + 2.0) / 2.0)  # thin, translucent biting edge
    lip_shadow = 1.0 - 0.3 * np.exp(-0.5 * (d_top / 1.5) ** 2)  # the upper lip shades the teeth
    a = smoothstep((up_h - d_top) / 1.1 + 0.5)
    rgb += (m.teeth * (0.88 * (1.0 - 0.65 * u2) * gaps * edge * lip_shadow)[..., None] - rgb) * a[..., None]
    # The inner rim of the lips is in shadow.
    rgb *= (0.78 + 0.22 * smoothstep(np.minimum(d_top, d_bot) / 2.5))[..., None]
    out: np.ndarray = rgb
    return out
