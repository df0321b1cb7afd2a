"""Face identity embeddings (dlib's 128-d ResNet from `face-recognition-models`), for benchmarks.

Optional: install the "bench" extra. dlib calls distances under 0.6 the same person.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from server.errors import DependencyMissing


class FaceEmbedder:
    """128-d embeddings of the face in an image (dlib's HOG detector, 5-point alignment, ResNet)."""

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise DependencyMissing("dlib is not installed", hint="pip install 'memoria[bench]'") from exc
        models = _models_dir()
        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._net = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))
        self._detector = dlib.get_frontal_face_detector()
        self._lock = threading.Lock()

    def embed(self, rgb: np.ndarray, upsample: int = 0) -> np.ndarray | None:
        """The embedding of the largest face dlib's own detector finds, or None if it finds none.

        dlib's alignment expects its detector's boxes: boxes from another detector shift the
        5-point fit and inflate distances, even between a photo and itself.
        """
        image = np.ascontiguousarray(rgb)
        with self._lock:
            rects = self._detector(image, upsample)
            if not rects:
                return None
            rect = max(rects, key=lambda r: r.area())
            shape = self._shape(image, rect)
            return np.asarray(self._net.compute_face_descriptor(image, shape), np.float64)


def _models_dir() -> Path:
    # Located without importing the package: its __init__ needs pkg_resources (setuptools < 81).
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise DependencyMissing("face-recognition-models is not installed", hint="pip install 'memoria[bench]'")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def distance(a: Any, b: Any) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
