"""Renders one frame from a rig and that frame's face parameters: one coarse field for the whole
head, sharp fields for mouth and eyes, one cv2.remap, then the mouth interior on top."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from plugins.warp.eyes import warp_eye
from plugins.warp.fields import COARSE
from plugins.warp.mouth import MouthShape, warp_mouth
from plugins.warp.rig import Rig


@dataclasses.dataclass(slots=True)
class FaceParams:
    """Everything that moves in one frame."""

    mouth: MouthShape = dataclasses.field(default_factory=MouthShape)
    blink: float = 0.0
    widen: float = 0.0
    gaze: tuple[float, float] = (0.0, 0.0)
    motion: dict[str, float] = dataclasses.field(default_factory=dict)  # COARSE name -> amount


class Renderer:
    """Per-rig buffers reused frame after frame, so rendering allocates little."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        w, h = rig.size
        self.size = (w, h)
        xs = np.arange(w, dtype=np.float32)
        ys = np.arange(h, dtype=np.float32)
        self.grid = np.dstack(np.meshgrid(xs, ys)).astype(np.float32)
        self.map = np.empty_like(self.grid)
        self.coarse = rig.coarse.reshape(len(COARSE), -1)
        self.coarse_shape = rig.coarse.shape[1:]
        self.weights = np.zeros(len(COARSE), np.float32)
        self.names = {name: i for i, name in enumerate(COARSE)}
        self.boxes: dict[str, tuple[int, int, int, int]] = {}  # region -> (y0, x0, y1, x1) in the last frame

    def _follow(self, y0: int, y1: int, x0: int, x1: int) -> tuple[int, int]:
        """Where a region's box lies in this frame: moved with the head, kept inside the image."""
        cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
        dx, dy = self.map[cy, cx] - self.grid[cy, cx]
        w, h = self.size
        top = min(max(0, y0 - round(float(dy))), h - (y1 - y0))
        left = min(max(0, x0 - round(float(dx))), w - (x1 - x0))
        return top, left

    def render(self, p: FaceParams) -> np.ndarray:
        """One RGB uint8 frame of the rig's size."""
        rig = self.rig
        self.weights[:] = 0
        for name, value in p.motion.items():
            self.weights[self.names[name]] = value
        active = np.flatnonzero(self.weights)
        if len(active):
            field = (self.weights[active] @ self.coarse[active]).reshape(self.coarse_shape)
            cv2.resize(field, self.size, dst=self.map, interpolation=cv2.INTER_LINEAR)
            self.map += self.grid
        else:
            self.map[:] = self.grid
        m = rig.mouth
        my, mx = self._follow(m.y0, m.y1, m.x0, m.x1)
        self.boxes["mouth"] = (my, mx, my + m.y1 - m.y0, mx + m.x1 - m.x0)
        box = self.map[my : my + m.y1 - m.y0, mx : mx + m.x1 - m.x0]
        # Contiguous copies: numpy is much slower on the interleaved (x, y) planes of the map.
        sx, sy, interior = warp_mouth(m, box[..., 0].copy(), box[..., 1].copy(), p.mouth)
        box[..., 0] = sx
        box[..., 1] = sy
        lids = []
        for name, eye in (("eye_left", rig.eye_left), ("eye_right", rig.eye_right)):
            ey, ex = self._follow(eye.y0, eye.y1, eye.x0, eye.x1)
            self.boxes[name] = (ey, ex, ey + eye.y1 - eye.y0, ex + eye.x1 - eye.x0)
            box = self.map[ey : ey + eye.y1 - eye.y0, ex : ex + eye.x1 - eye.x0]
            sx, sy, cover = warp_eye(eye, box[..., 0].copy(), box[..., 1].copy(), p.blink, p.widen, p.gaze)
            box[..., 0] = sx
            box[..., 1] = sy
            if cover is not None:
                lids.append((ey, ex, cover, eye.lid_colour))
        out = cv2.remap(rig.base, self.map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        for ey, ex, cover, colour in lids:
            h, w = cover.shape
            region = out[ey : ey + h, ex : ex + w].astype(np.float32)
            region += (colour - region) * cover[..., None]
            out[ey : ey + h, ex : ex + w] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
        if interior is not None:
            y0, x0 = my + interior.y0, mx + interior.x0
            h, w = interior.rgb.shape[:2]
            region = out[y0 : y0 + h, x0 : x0 + w].astype(np.float32)
            region += (interior.rgb - region) * interior.alpha
            out[y0 : y0 + h, x0 : x0 + w] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
        return out
