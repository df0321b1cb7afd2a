"""The per-photo rig: the aligned photo, its landmarks, warp bases and region tables.

Built once per photo and output size (`build_rig`, ~50 ms) and cached on disk as one .npz, so a
call starts rendering without touching the face mesh again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from plugins.warp.fields import coarse_bases
from plugins.warp.regions import EyeRig, MouthRig, build_eye, build_mouth
from server.face import topology as T

RIG_VERSION = 9  # bump when the rig's content changes, so stale caches are rebuilt


@dataclasses.dataclass
class Rig:
    """Everything the renderer needs about one photo at one output size."""

    base: np.ndarray  # (H, W, 3) uint8: the photo aligned and framed for the output
    pts: np.ndarray  # (478, 2) float32 landmarks in output pixels
    coarse: np.ndarray  # (K, H/step, W/step, 2) float32 backward offsets per unit of each motion
    mouth: MouthRig
    eye_left: EyeRig
    eye_right: EyeRig
    face_width: float  # output pixels

    @property
    def size(self) -> tuple[int, int]:
        return int(self.base.shape[1]), int(self.base.shape[0])


def build_rig(photo: np.ndarray, landmarks: np.ndarray, size: tuple[int, int], face_fraction: float = 0.40) -> Rig:
    """Align the photo so the face is level, centred and `face_fraction` of the frame's height wide."""
    matrix, scale = framing(landmarks, photo.shape[1], photo.shape[0], size, face_fraction)
    base = _warp_photo(photo, matrix, scale, size)
    pts = (np.c_[landmarks[:, :2], np.ones(len(landmarks))] @ matrix.T).astype(np.float32)
    oval = pts[list(T.FACE_OVAL)]
    face_w = float(oval[:, 0].max() - oval[:, 0].min())
    w, h = size
    coarse = coarse_bases(pts, (h, w), face_w)
    return Rig(
        base=base,
        pts=pts,
        coarse=coarse,
        mouth=build_mouth(base, pts, face_w),
        eye_left=build_eye(base, pts, T.EYE_LEFT_UPPER, T.EYE_LEFT_LOWER),
        eye_right=build_eye(base, pts, T.EYE_RIGHT_UPPER, T.EYE_RIGHT_LOWER),
        face_width=face_w,
    )


def framing(
    landmarks: np.ndarray, photo_w: int, photo_h: int, size: tuple[int, int], face_fraction: float
) -> tuple[np.ndarray, float]:
    """A 2x3 similarity (photo -> output) that levels the eyes and frames head and shoulders.

    The face is made `face_fraction` of the output height wide unless the photo cannot fill the
    frame at that zoom; then it zooms in just enough, so no border is ever invented.
    """
    w, h = size
    left = landmarks[list(T.EYE_LEFT_UPPER) + list(T.EYE_LEFT_LOWER), :2].mean(axis=0)
    right = landmarks[list(T.EYE_RIGHT_UPPER) + list(T.EYE_RIGHT_LOWER), :2].mean(axis=0)
    angle = math.atan2(right[1] - left[1], right[0] - left[0])
    oval = landmarks[list(T.FACE_OVAL), :2]
    centre = oval.mean(axis=0)
    cos, sin = math.cos(-angle), math.sin(-angle)
    rot = np.array([[cos, -sin], [sin, cos]])
    levelled = (oval - centre) @ rot.T
    face_w = float(levelled[:, 0].max() - levelled[:, 0].min())
    scale = face_fraction * h / max(face_w, 1.0)
    # The output must come from inside the photo: its footprint there is (w/scale, h/scale).
    scale = max(scale, w / photo_w, h / photo_h)
    half_w, half_h = w / (2 * scale), h / (2 * scale)
    # Face centre at 46 % of the height: room above for hair, below for shoulders.
    want = centre + rot.T @ np.array([0.0, (0.5 - 0.46) * h / scale])
    cx = float(np.clip(want[0], half_w, photo_w - half_w))
    cy = float(np.clip(want[1], half_h, photo_h - half_h))
    m = np.zeros((2, 3))
    m[:, :2] = rot * scale
    m[:, 2] = np.array([w / 2, h / 2]) - m[:, :2] @ np.array([cx, cy])
    return m, scale


def _warp_photo(photo: np.ndarray, matrix: np.ndarray, scale: float, size: tuple[int, int]) -> np.ndarray:
    m = matrix.copy()
    src = photo
    if scale < 0.5:  # a large photo: area-average first so the warp does not alias
        shrink = scale * 1.5
        src = cv2.resize(photo, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
        m[:, :2] /= shrink
    interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(src, m, size, flags=interp, borderMode=cv2.BORDER_REPLICATE)


# -- cache on disk -------------------------------------------------------------------------------


def cache_key(photo_bytes: bytes, landmarks: np.ndarray, size: tuple[int, int], face_fraction: float) -> str:
    """A file name that changes when anything the rig depends on changes."""
    digest = hashlib.sha256(photo_bytes)
    digest.update(np.ascontiguousarray(landmarks, np.float32).tobytes())
    digest.update(f"{size}|{face_fraction}|{RIG_VERSION}".encode())
    return f"warp-rig-{digest.hexdigest()[:24]}.npz"


def save_rig(rig: Rig, path: Path) -> None:
    """Write the rig atomically (temp file, then rename) so a crash never leaves half a cache."""
    arrays: dict[str, Any] = {}
    _flatten(rig, "", arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_rig(path: Path) -> Rig:
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    rig: Rig = _unflatten(Rig, "", arrays)
    return rig


def _flatten(obj: Any, prefix: str, out: dict[str, Any]) -> None:
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if dataclasses.is_dataclass(value):
            _flatten(value, f"{prefix}{field.name}.", out)
        else:
            out[prefix + field.name] = np.asarray(value)


def _unflatten(cls: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    values: dict[str, Any] = {}
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    for name, hint in hints.items():
        sub = {"MouthRig": MouthRig, "EyeRig": EyeRig}.get(str(hint))
        if sub is not None:
            values[name] = _unflatten(sub, f"{prefix}{name}.", arrays)
        else:
            arr = arrays[prefix + name]
            values[name] = arr.item() if arr.ndim == 0 else arr
    return cls(**values)
