"""The photo's side of SadTalker, done once per photo: the face crop the renderer animates, and the
3DMM coefficients of the face in it (Deep3DFaceRecon's alignment, then `face_3drecon`).

The official 'crop' preprocess finds 68 landmarks with detectors whose weights we cannot ship; the
photo's own landmarks (found at upload) give the same five points: the eye centres, the nose tip
and the mouth corners.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from server.face import topology as T

RECON_SIZE = 224  # Deep3DFaceRecon's input
RESCALE = 102.0  # its rescale factor: one unit of the mean shape is this many pixels at 224

# Deep3DFaceRecon's five-point mean shape (left eye, right eye, nose tip, left and right mouth
# corner; BFM units, y up), approximately: the exact values come from BFM's similarity_Lm3D_all.mat,
# which is not ours to ship. Only the photo's alignment, not the networks, depends on it.
MEAN_SHAPE = np.array(
    [
        [-0.3115, 0.2904, 0.1338],
        [0.3098, 0.2897, 0.1318],
        [0.0033, -0.0462, 0.5524],
        [-0.2522, -0.3813, 0.2241],
        [0.2485, -0.3813, 0.2224],
    ],
    np.float64,
)


@dataclasses.dataclass(frozen=True)
class Box:
    """A square crop of the frame, in pixels."""

    x: int
    y: int
    side: int

    def crop(self, image: np.ndarray) -> np.ndarray:
        return image[self.y : self.y + self.side, self.x : self.x + self.side]


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """(5, 2) eye centres, nose tip and mouth corners from the 478 face-mesh landmarks."""
    eyes = [np.concatenate([landmarks[list(up)], landmarks[list(low)]]).mean(axis=0)
            for up, low in ((T.EYE_LEFT_UPPER, T.EYE_LEFT_LOWER), (T.EYE_RIGHT_UPPER, T.EYE_RIGHT_LOWER))]  # fmt: skip
    return np.stack([*eyes, landmarks[T.NOSE_TIP], landmarks[T.MOUTH_LEFT], landmarks[T.MOUTH_RIGHT]]).astype(
        np.float64
    )


def crop_box(points: np.ndarray, width: int, height: int) -> Box:
    """The square SadTalker's cropper takes around a face (the FFHQ alignment's size and centre:
    twice the larger of 2x the eye distance and 1.8x the eye-to-mouth distance, centred a tenth of
    the way from the eyes to the mouth), without its rotation, kept inside the frame."""
    eye_avg = points[:2].mean(axis=0)
    eye_to_eye = points[1] - points[0]
    eye_to_mouth = points[3:].mean(axis=0) - eye_avg
    half = max(2.0 * float(np.hypot(*eye_to_eye)), 1.8 * float(np.hypot(*eye_to_mouth)))
    side = int(min(round(2 * half), width, height))
    centre = eye_avg + 0.1 * eye_to_mouth
    x = int(np.clip(round(centre[0] - side / 2), 0, width - side))
    y = int(np.clip(round(centre[1] - side / 2), 0, height - side))
    return Box(x, y, side)


def fit_mean_shape(points: np.ndarray, height: int) -> tuple[float, np.ndarray]:
    """Scale and translation of the mean shape onto the five points (y flipped, as the official
    code flips landmarks before aligning): the least-squares affine camera of Deep3DFaceRecon's
    POS, whose scale is the mean norm of its two projection rows."""
    x = np.stack([points[:, 0], height - 1 - points[:, 1]], axis=1)
    rows = np.zeros((2 * len(points), 8))
    rows[0::2, 0:3], rows[0::2, 3] = MEAN_SHAPE, 1
    rows[1::2, 4:7], rows[1::2, 7] = MEAN_SHAPE, 1
    k, *_ = np.linalg.lstsq(rows, x.reshape(-1), rcond=None)
    scale = (np.linalg.norm(k[0:3]) + np.linalg.norm(k[4:7])) / 2
    return float(scale), np.array([k[3], k[7]])


def align(image: np.ndarray, scale: float, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deep3DFaceRecon's `align_img` for a fitted (scale, t): the image resized so a mean-shape unit
    is RESCALE pixels, cropped 224x224 around the face. Returns the crop (uint8 RGB) and
    `trans_params` (w0, h0, RESCALE / scale, tx, ty)."""
    from PIL import Image

    h0, w0 = image.shape[:2]
    s = RESCALE / scale
    w, h = int(w0 * s), int(h0 * s)
    left = int(w / 2 - RECON_SIZE / 2 + float((t[0] - w0 / 2) * s))
    up = int(h / 2 - RECON_SIZE / 2 + float((h0 / 2 - t[1]) * s))
    resized = Image.fromarray(image).resize((w, h), resample=Image.Resampling.BICUBIC)
    cropped = resized.crop((left, up, left + RECON_SIZE, up + RECON_SIZE))
    params = np.array([w0, h0, s, t[0], t[1]], np.float32)
    return np.asarray(cropped), params


def recon_input(aligned: np.ndarray) -> np.ndarray:
    """[1, 3, 224, 224] float32 in [0, 1], as `face_3drecon` reads it."""
    return (aligned.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]


def source_coefficients(recon_output: np.ndarray, trans_params: np.ndarray) -> np.ndarray:
    """[73] float32: expression (64), angles (3), translation (3), then trans_params[2:] (the
    official `coeff_3dmm` of the source; 'crop' mappings read the first 70)."""
    out = recon_output.reshape(-1)
    return np.concatenate([out[80:144], out[224:227], out[254:257], trans_params[2:]]).astype(np.float32)
