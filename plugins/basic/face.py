"""Where the mouth and eyes are on the basic animator's square picture, and how to draw them."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import msgspec
import numpy as np
from PIL import Image

from server.backends import AvatarFace
from server.media import AvatarState, Emotion

# Landmark layouts we know: dlib's 68 points and MediaPipe's face mesh (468/478 points).
MOUTH_68 = (48, 54, 51, 57)  # left corner, right corner, upper lip, lower lip
EYES_68 = ((36, 39), (42, 45))
MOUTH_MESH = (61, 291, 13, 14)
EYES_MESH = ((33, 133), (362, 263))


class FaceLayout(msgspec.Struct, frozen=True):
    """Mouth and eyes in output pixels."""

    mouth: tuple[float, float]
    mouth_width: float
    eyes: tuple[tuple[float, float], tuple[float, float]]
    eye_width: float


def load_picture(face: AvatarFace) -> tuple[np.ndarray, FaceLayout]:
    """The photo cropped square around the face, resized to `face.size`, and its layout."""
    with Image.open(face.photo) as img:
        rgb = np.asarray(img.convert("RGB"))
    h, w = rgb.shape[:2]
    points = np.asarray(face.landmarks, dtype=np.float64).reshape(-1, 2) if face.landmarks else None
    box = None if points is not None and len(points) else _detect_face(rgb)
    if points is not None and len(points):
        lo, hi = points.min(axis=0), points.max(axis=0)
        cx, cy = (lo + hi) / 2
        side = min(max(hi - lo) * 1.6, w, h)
    elif box is not None:
        cx, cy, side = box[0] + box[2] / 2, box[1] + box[3] / 2, min(box[2] * 2.4, w, h)
    else:
        cx, cy, side = w / 2, h / 2, min(w, h)
    x0 = int(np.clip(cx - side / 2, 0, w - side))
    y0 = int(np.clip(cy - side / 2, 0, h - side))
    side_i = int(side)
    out_w, out_h = face.size
    crop = np.ascontiguousarray(rgb[y0 : y0 + side_i, x0 : x0 + side_i])
    picture = cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_AREA)
    scale = np.array([out_w / side_i, out_h / side_i])
    local = (points - [x0, y0]) * scale if points is not None and len(points) else None
    if local is None and box is not None:
        bx, by = (box[0] - x0) * scale[0], (box[1] - y0) * scale[1]
        bw, bh = box[2] * scale[0], box[3] * scale[1]
        layout = FaceLayout(
            mouth=(bx + bw * 0.5, by + bh * 0.80),
            mouth_width=bw * 0.36,
            eyes=((bx + bw * 0.31, by + bh * 0.40), (bx + bw * 0.69, by + bh * 0.40)),
            eye_width=bw * 0.17,
        )
        return picture, layout
    return picture, _layout(local, out_w, out_h)


def _detect_face(rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    """The largest frontal face (x, y, w, h) by OpenCV's bundled Haar cascade, or None."""
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    found = cascade.detectMultiScale(gray, 1.1, 5, minSize=(max(24, min(gray.shape) // 10),) * 2)
    if len(found) == 0:
        return None
    x, y, fw, fh = max(found, key=lambda r: int(r[2]) * int(r[3]))
    return int(x), int(y), int(fw), int(fh)


def _layout(points: np.ndarray | None, w: int, h: int) -> FaceLayout:
    if points is not None and len(points) in (68, 468, 478):
        mouth_ids, eye_ids = (MOUTH_68, EYES_68) if len(points) == 68 else (MOUTH_MESH, EYES_MESH)
        left, right, top, bottom = (points[i] for i in mouth_ids)
        eyes = tuple((points[a] + points[b]) / 2 for a, b in eye_ids)
        eye_width = float(np.mean([np.linalg.norm(points[a] - points[b]) for a, b in eye_ids]))
        mouth = (top + bottom) / 2
        return FaceLayout(
            mouth=(float(mouth[0]), float(mouth[1])),
            mouth_width=float(np.linalg.norm(right - left)),
            eyes=((float(eyes[0][0]), float(eyes[0][1])), (float(eyes[1][0]), float(eyes[1][1]))),
            eye_width=eye_width,
        )
    # No usable landmarks: where a centred portrait usually has them.
    return FaceLayout(
        mouth=(w * 0.5, h * 0.7),
        mouth_width=w * 0.16,
        eyes=((w * 0.38, h * 0.44), (w * 0.62, h * 0.44)),
        eye_width=w * 0.09,
    )


def draw_frame(
    picture: np.ndarray,
    layout: FaceLayout,
    *,
    t: float,
    openness: float,
    blink: float,
    emotion: Emotion,
    state: AvatarState,
) -> np.ndarray:
    """One frame: gentle head sway, eyelids at `blink` (0 open, 1 shut), mouth open by `openness`."""
    h, w = picture.shape[:2]
    sway = 1.0 if state is AvatarState.SPEAKING else 0.6
    angle = sway * 0.8 * math.sin(2 * math.pi * t / 5.3) + (0.6 if state is AvatarState.LISTENING else 0.0)
    dx = sway * 1.5 * math.sin(2 * math.pi * t / 7.1)
    dy = 1.0 * math.sin(2 * math.pi * t / 4.0)  # breathing
    matrix = cv2.getRotationMatrix2D(layout.mouth, angle, 1.0)
    matrix[:, 2] += np.array([dx, dy])
    frame = picture.copy()
    _draw_mouth(frame, layout, openness, emotion)
    if blink > 0.05:
        _draw_eyelids(frame, layout, blink)
    return cv2.warpAffine(frame, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)


def _draw_mouth(frame: np.ndarray, layout: FaceLayout, openness: float, emotion: Emotion) -> None:
    if openness < 0.03:
        return
    cx, cy = (round(v) for v in layout.mouth)
    half_w = max(2, int(layout.mouth_width * (0.36 - 0.06 * openness)))
    half_h = max(1, int(layout.mouth_width * 0.22 * openness))
    lift = int(layout.mouth_width * 0.05) if emotion is Emotion.HAPPY else 0
    cv2.ellipse(frame, (cx, cy - lift), (half_w, half_h), 0, 0, 360, (60, 18, 22), -1, lineType=cv2.LINE_AA)
    if half_h > 4:  # a glimpse of upper teeth
        cv2.ellipse(
            frame,
            (cx, cy - lift - half_h // 2),
            (int(half_w * 0.7), max(1, half_h // 4)),
            0,
            180,
            360,
            (225, 220, 210),
            -1,
            lineType=cv2.LINE_AA,
        )


def _draw_eyelids(frame: np.ndarray, layout: FaceLayout, blink: float) -> None:
    half_w = max(2, int(layout.eye_width * 0.6))
    half_h = max(1, int(layout.eye_width * 0.35 * blink))
    for ex, ey in layout.eyes:
        cx, cy = round(ex), round(ey)
        above = frame[max(0, cy - 3 * half_w // 2 - 2) : max(1, cy - half_w), max(0, cx - half_w) : cx + half_w]
        skin = tuple(int(v) for v in (above.reshape(-1, 3).mean(axis=0) if above.size else (180, 140, 120)))
        cv2.ellipse(frame, (cx, cy - half_h // 2), (half_w, half_h), 0, 0, 360, skin, -1, lineType=cv2.LINE_AA)


def blink_amount(t: float, seed: Sequence[int] = (3, 7)) -> float:
    """0..1 eyelid closure at time `t`: a 160 ms blink every 3-5 s, irregular but repeatable."""
    period_index = int(t // 4.0)
    offset = ((period_index * seed[0] + seed[1]) % 10) / 10.0 * 2.0  # 0..2 s into each 4 s period
    phase = t - period_index * 4.0 - offset
    if 0.0 <= phase < 0.16:
        return math.sin(math.pi * phase / 0.16)
    return 0.0
