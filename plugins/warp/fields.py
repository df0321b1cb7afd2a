"""Smooth whole-face motions as coarse displacement bases: one field per unit of each motion.

A frame's coarse field is a weighted sum of these (a dot product over a 1/4-resolution grid),
upsampled once; that keeps head motion, breathing, brows and smiles to well under a millisecond.
Every field is a backward offset: the output pixel p shows the photo at p + field(p).
"""

from __future__ import annotations

import numpy as np

from plugins.warp.geometry import gaussian, scale_about, soft_polygon
from server.face import topology as T

COARSE_STEP = 4
COARSE = (
    "tx",  # head shift right, px
    "ty",  # head shift down, px
    "roll",  # head tilt, degrees (clockwise on screen)
    "zoom",  # head towards the camera, percent
    "yaw",  # nose moves right, px (the face turns)
    "pitch",  # nose moves down, px (a nod)
    "breath",  # shoulders and head rise, px
    "brow_up",  # both brows rise, px
    "brow_inner",  # inner brow ends rise (sadness, worry), px
    "brow_knit",  # inner brow ends draw together and down (thought), px
    "smile",  # mouth corners rise and widen, cheeks lift, px
    "frown",  # mouth corners drop, px
    "squint",  # lower lids rise, px
)
INDEX = {name: i for i, name in enumerate(COARSE)}


def coarse_bases(pts: np.ndarray, shape: tuple[int, int], face_w: float) -> np.ndarray:
    """(len(COARSE), H/step, W/step, 2) float32 backward offsets for the rig."""
    h, w = shape
    hc, wc = -(-h // COARSE_STEP), -(-w // COARSE_STEP)
    # Sample points where cv2.resize(INTER_LINEAR) puts each coarse cell's centre.
    xs = (np.arange(wc, dtype=np.float32) + 0.5) * COARSE_STEP - 0.5
    ys = (np.arange(hc, dtype=np.float32) + 0.5) * COARSE_STEP - 0.5
    xx, yy = np.meshgrid(xs, ys)
    s = 1.0 / COARSE_STEP

    oval = pts[list(T.FACE_OVAL)]
    centre = oval.mean(axis=0)
    chin = pts[T.CHIN]
    # The head: the face contour grown to take in hair and ears, soft-edged so the background
    # next to it stretches a little instead of tearing.
    head_poly = scale_about(oval, centre + np.array([0, -0.08 * face_w]), 1.28, 1.38)
    head = soft_polygon(head_poly, (hc, wc), blur=0.10 * face_w, scale=s)
    below_chin = np.clip((yy - chin[1]) / (0.35 * face_w), 0, 1)
    head *= 1.0 - 0.6 * below_chin  # the neck follows the head only partly
    body = np.clip((yy - (chin[1] + 0.15 * face_w)) / (0.5 * face_w), 0, 1)

    fields = np.zeros((len(COARSE), hc, wc, 2), np.float32)

    def put(name: str, vx: np.ndarray | float, vy: np.ndarray | float) -> None:
        fields[INDEX[name], :, :, 0] = -np.asarray(vx, np.float32)  # moving content by v = reading from p - v
        fields[INDEX[name], :, :, 1] = -np.asarray(vy, np.float32)

    put("tx", head, 0.0)
    put("ty", 0.0, head)
    pivot = np.array([chin[0], chin[1] + 0.3 * face_w])
    rad = np.pi / 180.0
    put("roll", -(yy - pivot[1]) * rad * head, (xx - pivot[0]) * rad * head)
    put("zoom", (xx - centre[0]) * 0.01 * head, (yy - centre[1]) * 0.01 * head)
    nose = pts[T.NOSE_TIP]
    bump = gaussian(xx, yy, nose[0], nose[1], 0.30 * face_w, 0.38 * face_w) * head
    put("yaw", bump + 0.35 * head, 0.0)
    put("pitch", 0.0, bump + 0.25 * head)
    put("breath", 0.0, -(body + 0.35 * head))

    eye_l, eye_r = pts[T.EYE_LEFT_TOP], pts[T.EYE_RIGHT_TOP]
    brows = [pts[list(T.BROW_LEFT)].mean(axis=0), pts[list(T.BROW_RIGHT)].mean(axis=0)]
    gap = float(np.mean([brows[0][1] - eye_l[1], brows[1][1] - eye_r[1]]))  # negative: brows are above
    reach = max(abs(gap), 0.05 * face_w)
    up = sum(_brow_bump(xx, yy, b, 0.22 * face_w, reach) for b in brows)
    put("brow_up", 0.0, -up)
    inner = [pts[T.BROW_LEFT[-1]], pts[T.BROW_RIGHT[-1]]]
    inner_bump = [_brow_bump(xx, yy, p, 0.09 * face_w, reach) for p in inner]
    put("brow_inner", 0.0, -(inner_bump[0] + inner_bump[1]))
    put("brow_knit", 0.6 * (inner_bump[0] - inner_bump[1]), 0.4 * (inner_bump[0] + inner_bump[1]))

    mouth_w = float(np.linalg.norm(pts[T.MOUTH_RIGHT] - pts[T.MOUTH_LEFT]))
    corners = [pts[T.MOUTH_LEFT], pts[T.MOUTH_RIGHT]]
    cl, cr = (gaussian(xx, yy, c[0], c[1], 0.24 * mouth_w, 0.22 * mouth_w) for c in corners)
    cheeks = [
        (pts[T.EYE_LEFT_BOTTOM] + pts[T.MOUTH_LEFT]) / 2,
        (pts[T.EYE_RIGHT_BOTTOM] + pts[T.MOUTH_RIGHT]) / 2,
    ]
    cheek = sum(gaussian(xx, yy, c[0], c[1], 0.14 * face_w, 0.12 * face_w) for c in cheeks)
    put("smile", 0.45 * (cr - cl), -(cl + cr) - 0.35 * cheek)
    put("frown", 0.1 * (cl - cr), cl + cr)
    lids = [pts[T.EYE_LEFT_BOTTOM], pts[T.EYE_RIGHT_BOTTOM]]
    eye_w = float(np.linalg.norm(pts[T.EYE_LEFT_OUTER] - pts[T.EYE_LEFT_INNER]))
    lid = sum(gaussian(xx, yy, p[0], p[1] + 0.05 * eye_w, 0.35 * eye_w, 0.16 * eye_w) for p in lids)
    put("squint", 0.0, -lid)
    return fields


def _brow_bump(xx: np.ndarray, yy: np.ndarray, at: np.ndarray, sx: float, reach: float) -> np.ndarray:
    """A bump that reaches far up the forehead but fades quickly towards the eye below it."""
    dy = yy - at[1]
    sy = np.where(dy < 0, 1.6 * reach, 0.45 * reach)
    bump: np.ndarray = np.exp(-0.5 * (((xx - at[0]) / sx) ** 2 + (dy / sy) ** 2)).astype(np.float32)
    return bump
