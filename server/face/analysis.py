"""Face analysis at upload: landmarks, a quality score that guides the user, and rejection of
photos the animator cannot bring to life (no face, two faces, too small, too turned).

`analyze_photo` is blocking (about 0.1-0.3 s on a CPU core): call it through asyncio.to_thread.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np

from server.errors import BadInput
from server.face import topology as T
from server.face.mesh import detect_faces, face_mesh

MIN_FACE_PX = 64  # face width below which there is too little to animate
GOOD_FACE_PX = 220  # face width from which more pixels no longer help a 512 px output
MAX_YAW_DEG = 32.0
MAX_PITCH_DEG = 28.0
SECOND_FACE_RATIO = 0.35  # another face at least this fraction of the main one's area is ambiguous
WEIGHTS = {"face_size": 0.25, "sharpness": 0.25, "frontal_pose": 0.2, "lighting": 0.2, "mouth_state": 0.1}


class FaceAnalysis(msgspec.Struct, frozen=True):
    """What upload learns about a photo; stored with the avatar image."""

    landmarks: list[list[float]]  # 478 x [x, y] in pixels of the analysed image
    bbox: list[float]  # [x0, y0, x1, y1] of the face contour, pixels
    quality_score: float  # 0..1, weighted mean of the parts in `quality`
    quality: dict[str, object]  # part -> 0..1, plus "advice" (list[str]) and "measures"
    image_size: tuple[int, int] = (0, 0)  # (width, height) the landmarks refer to


def analyze_photo(rgb: np.ndarray) -> FaceAnalysis:
    """Find the one face in an RGB uint8 photo, score it, or raise BadInput saying why not."""
    rgb = _check_image(rgb)
    boxes = [b for b in detect_faces(rgb) if b.score >= 0.6]
    if not boxes:
        raise BadInput(
            "no face found in the photo", hint="use a photo where one face is clearly visible, looking at the camera"
        )
    if len(boxes) > 1 and boxes[1].area >= SECOND_FACE_RATIO * boxes[0].area:
        raise BadInput(
            f"the photo shows {len(boxes)} faces of similar size",
            hint="crop the photo to the one person to animate",
        )
    pts = face_mesh(rgb, boxes[0])
    if pts is None:
        raise BadInput(
            "the face could not be traced clearly", hint="use a sharper, well-lit photo of the face from the front"
        )
    oval = pts[list(T.FACE_OVAL), :2]
    x0, y0 = oval.min(axis=0)
    x1, y1 = oval.max(axis=0)
    face_w = float(x1 - x0)
    if face_w < MIN_FACE_PX:
        raise BadInput(
            f"the face is too small ({face_w:.0f} px wide, at least {MIN_FACE_PX} needed)",
            hint="use a closer photo or crop it around the face",
        )
    yaw, pitch, roll = head_pose(pts)
    if abs(yaw) > MAX_YAW_DEG or abs(pitch) > MAX_PITCH_DEG:
        raise BadInput(
            f"the head is turned too far (yaw {yaw:.0f} deg, pitch {pitch:.0f} deg)",
            hint="use a photo where the person looks roughly at the camera",
        )
    parts, measures, advice = _quality(rgb, pts, face_w, yaw, pitch, roll)
    score = sum(WEIGHTS[k] * parts[k] for k in WEIGHTS)
    quality: dict[str, object] = {**{k: round(v, 3) for k, v in parts.items()}, "advice": advice, "measures": measures}
    h, w = rgb.shape[:2]
    return FaceAnalysis(
        landmarks=[[round(float(x), 2), round(float(y), 2)] for x, y in pts[:, :2]],
        bbox=[round(float(v), 1) for v in (x0, y0, x1, y1)],
        quality_score=round(float(score), 3),
        quality=quality,
        image_size=(w, h),
    )


def head_pose(pts: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from the mesh's 3-D points; 0, 0, 0 is facing the camera."""
    left, right = pts[T.CHEEK_LEFT], pts[T.CHEEK_RIGHT]
    across = right - left
    yaw = math.degrees(math.atan2(across[2], across[0]))
    roll = math.degrees(math.atan2(across[1], across[0]))
    # The nose tip sits in front of the cheeks; its offset from their midpoint along the face's
    # vertical axis shows up/down tilt more reliably than the forehead-chin line.
    top, bottom = pts[T.NOSE_BRIDGE], pts[T.CHIN]
    down = bottom - top
    pitch = math.degrees(math.atan2(-down[2], math.hypot(down[0], down[1]))) - _PITCH_REST_DEG
    return yaw, pitch, roll


_PITCH_REST_DEG = -11.0  # the bridge-chin line of a level frontal face leans back (measured on frontal photos)


def _quality(
    rgb: np.ndarray, pts: np.ndarray, face_w: float, yaw: float, pitch: float, roll: float
) -> tuple[dict[str, float], dict[str, float | str], list[str]]:
    import cv2

    advice: list[str] = []
    size = _clip((face_w - MIN_FACE_PX) / (GOOD_FACE_PX - MIN_FACE_PX))
    if size < 0.6:
        advice.append("Use a closer or larger photo: the face is small.")

    face = _face_patch(rgb, pts)
    gray = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
    lap = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    sharp = _clip(math.log10(max(lap, 1.0)) / 2.0 - 0.25)  # ~30 -> 0.5, ~300 -> 1.0 on a 256 px face
    if sharp < 0.6:
        advice.append("Use a sharper photo: the face looks blurred or upscaled.")

    frontal = _clip(1.0 - max(abs(yaw) / MAX_YAW_DEG, abs(pitch) / MAX_PITCH_DEG, max(0.0, abs(roll) - 10) / 40))
    if frontal < 0.6:
        advice.append("Use a photo where the person looks straight at the camera.")

    lum = gray.astype(np.float32) / 255.0
    mean = float(lum.mean())
    clipped = float(((lum > 0.98) | (lum < 0.02)).mean())
    half = lum.shape[1] // 2
    balance = abs(float(lum[:, :half].mean()) - float(lum[:, half:].mean()))
    exposure = _clip(1.0 - max(0.0, abs(mean - 0.5) - 0.15) / 0.3)
    lighting = exposure * _clip(1.0 - clipped * 4) * _clip(1.0 - max(0.0, balance - 0.1) / 0.3)
    if lighting < 0.6:
        advice.append("Use a photo with even light on the face (not too dark, bright or half-shadowed).")

    opening = mouth_open_ratio(pts)
    mouth = 1.0 if opening < 0.3 else _clip(1.0 - (opening - 0.3) / 0.4)
    if mouth < 0.6:
        advice.append("A photo with the mouth closed or slightly open animates best.")

    parts = {"face_size": size, "sharpness": sharp, "frontal_pose": frontal, "lighting": lighting, "mouth_state": mouth}
    measures: dict[str, float | str] = {
        "face_width_px": round(face_w, 1),
        "laplacian_var": round(lap, 1),
        "yaw_deg": round(yaw, 1),
        "pitch_deg": round(pitch, 1),
        "roll_deg": round(roll, 1),
        "brightness": round(mean, 3),
        "clipped_fraction": round(clipped, 4),
        "side_balance": round(balance, 3),
        "mouth_open_ratio": round(opening, 3),
        "mouth": "closed" if opening < 0.04 else "open",
    }
    return parts, measures, advice


def mouth_open_ratio(pts: np.ndarray) -> float:
    """Gap between the inner lips over the mouth width: ~0 closed, ~0.5 wide open."""
    gap = np.linalg.norm(pts[T.LOWER_LIP_INNER, :2] - pts[T.UPPER_LIP_INNER, :2])
    width = np.linalg.norm(pts[T.MOUTH_RIGHT, :2] - pts[T.MOUTH_LEFT, :2])
    return float(gap) / max(float(width), 1e-6)


def _face_patch(rgb: np.ndarray, pts: np.ndarray, side: int = 256) -> np.ndarray:
    """The face's inner area (eyes to chin) resized to a fixed side, so measures are size-free."""
    import cv2

    inner = pts[list(T.FACE_OVAL), :2]
    cx, cy = inner.mean(axis=0)
    half = (inner.max(axis=0) - inner.min(axis=0)).max() * 0.35
    h, w = rgb.shape[:2]
    x0, x1 = int(max(0, cx - half)), int(min(w, cx + half))
    y0, y1 = int(max(0, cy - half)), int(min(h, cy + half))
    return cv2.resize(rgb[y0:y1, x0:x1], (side, side), interpolation=cv2.INTER_AREA)


def _check_image(rgb: np.ndarray) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.dtype != np.uint8:
        raise BadInput("the photo must be an 8-bit RGB image", hint="upload a JPEG or PNG")
    if min(arr.shape[:2]) < 32:
        raise BadInput("the photo is too small", hint="upload a photo of at least 256x256 pixels")
    return np.ascontiguousarray(arr[:, :, :3])


def _clip(v: float) -> float:
    return float(min(1.0, max(0.0, v)))
