"""The face box Wav2Lip sees, and pasting its mouth back without a seam.

Pasting the whole generated box (as the official inference does) leaves a visible square and a
blurrier lower face. Here only the mouth and jaw are taken, through a feathered ellipse, after the
generated patch's colours are matched (mean and spread per channel) to the frame under it.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property

import cv2
import numpy as np

from server.face import topology as T

FEATHER = 0.08  # blur of the mask's edge, as a share of the box width
TAIL = 0.02


@dataclasses.dataclass(frozen=True)
class FaceBox:
    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    def crop(self, image: np.ndarray) -> np.ndarray:
        return image[self.y1 : self.y2, self.x1 : self.x2]

    def network_input(self, image: np.ndarray, size: int) -> np.ndarray:
        """(size, size, 6) float32 in [0, 1]: the box with its lower half blacked out, then the box
        itself as the reference, in BGR like the official cv2 pipeline."""
        face = cv2.resize(np.ascontiguousarray(self.crop(image)[..., ::-1]), (size, size), interpolation=cv2.INTER_AREA)
        masked = face.copy()
        masked[size // 2 :] = 0
        return np.concatenate([masked, face], axis=2).astype(np.float32) / 255.0

    @cached_property
    def mask(self) -> np.ndarray:
        """(h, w, 1) float32: 1 over mouth and jaw, 0 at the box edges and above the nose tip."""
        h, w = self.height, self.width
        mask = np.zeros((h, w), np.float32)
        centre = (w // 2, int(0.74 * h))
        axes = (max(1, int(0.36 * w)), max(1, int(0.24 * h)))
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 1.0, thickness=-1)
        sigma = max(1.0, FEATHER * w)
        soft = cv2.GaussianBlur(mask, (0, 0), sigma)
        # the blur's far tails to exactly 0, so the eyes and the box's border keep the frame's pixels
        return np.clip((soft - TAIL) / (1 - TAIL), 0, 1)[..., None]


def face_box(landmarks: np.ndarray, shape: tuple[int, int], pad_bottom: int) -> FaceBox:
    """The box around the face oval (what a face detector returns), `pad_bottom` below the chin."""
    height, width = shape
    oval = landmarks[list(T.FACE_OVAL)]
    x1, y1 = np.floor(oval.min(axis=0)).astype(int)
    x2, y2 = np.ceil(oval.max(axis=0)).astype(int)
    return FaceBox(
        x1=int(np.clip(x1, 0, width - 2)),
        y1=int(np.clip(y1, 0, height - 2)),
        x2=int(np.clip(x2, x1 + 2, width)),
        y2=int(np.clip(y2 + pad_bottom, y1 + 2, height)),
    )


def match_colours(patch: np.ndarray, target: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """`patch` with each channel's weighted mean and spread moved to `target`'s (float32)."""
    w = weight[..., 0]
    total = max(float(w.sum()), 1e-6)
    out = np.empty_like(patch, dtype=np.float32)
    for c in range(3):
        p, t = patch[..., c].astype(np.float32), target[..., c].astype(np.float32)
        pm, tm = float((p * w).sum() / total), float((t * w).sum() / total)
        ps = np.sqrt(float((((p - pm) ** 2) * w).sum() / total)) + 1e-3
        ts = np.sqrt(float((((t - tm) ** 2) * w).sum() / total))
        gain = float(np.clip(ts / ps, 0.5, 2.0))
        out[..., c] = (p - pm) * gain + tm
    return out


def blend_mouth(frame: np.ndarray, generated: np.ndarray, box: FaceBox) -> np.ndarray:
    """The frame with the generated face's mouth and jaw blended in (RGB uint8 in, RGB uint8 out)."""
    region = box.crop(frame).astype(np.float32)
    patch = cv2.resize(generated, (box.width, box.height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    mask = box.mask
    matched = match_colours(patch, region, mask)
    blended = region * (1 - mask) + matched * mask
    out = frame.copy()
    out[box.y1 : box.y2, box.x1 : box.x2] = np.clip(blended, 0, 255).astype(np.uint8)
    return out
