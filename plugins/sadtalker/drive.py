"""From a sentence's audio to what SadTalker's renderer draws, in the official order of operations:
mel windows and eye blinks -> audio2exp (expression) and audio2pose (head pose) -> smoothed 3DMM
coefficients per frame -> 27-frame windows -> MappingNet -> keypoints of the source and each frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plugins.sadtalker.motion import keypoint_transformation
from plugins.wav2lip.audio import melspectrogram

SAMPLES_PER_FRAME = 640  # 16 kHz at 25 fps
MEL_WINDOW = 16
SEMANTIC_RADIUS = 13  # the renderer sees each frame's coefficients with 13 frames either side
POSE_SMOOTHING = 13  # Savitzky-Golay window (order 2) over the predicted head pose
BLINK = (0.5, 0.9, 1.0, 0.9, 0.5)  # eye-blink ratio over five frames


def frame_count(samples: int) -> int:
    return samples // SAMPLES_PER_FRAME


def mel_windows(wav: np.ndarray) -> np.ndarray:
    """[1, T, 1, 80, 16] float32: per frame i, the 16 mel rows from int(80 (i - 2) / 25), clamped.

    The audio is cut (or padded) to T frames first; the mel has SadTalker's zero-padded STFT.
    """
    frames = frame_count(len(wav))
    wav = np.pad(wav[: frames * SAMPLES_PER_FRAME], (0, max(0, frames * SAMPLES_PER_FRAME - len(wav))))
    mel = melspectrogram(wav.astype(np.float32), pad_mode="constant").T  # [columns, 80]
    last = mel.shape[0] - 1
    windows = []
    for i in range(frames):
        start = int(80.0 * ((i - 2) / 25.0))  # int() truncates towards zero, as the official code does
        rows = np.clip(np.arange(start, start + MEL_WINDOW), 0, last)
        windows.append(mel[rows].T)
    return np.stack(windows)[None, :, None].astype(np.float32)


def blinks(frames: int, rng: np.random.Generator) -> np.ndarray:
    """[1, T, 1] eye-blink ratio as SadTalker draws it: none in clips of 20 frames or fewer, else
    a blink after every 10 to min(T/2, 70) frames while one still fits before the end."""
    ratio = np.zeros((frames, 1), np.float32)
    if frames <= 20:
        return ratio[None]
    at, low, high = 0, min(10, frames), min(frames // 2, 70)
    while True:
        start = at + int(rng.integers(low, max(low + 1, high)))
        if start + len(BLINK) > frames - 1:
            break
        ratio[start : start + len(BLINK), 0] = BLINK
        at = start + len(BLINK)
    return ratio[None]


def _smooth(pose: np.ndarray) -> np.ndarray:
    from scipy.signal import savgol_filter

    window = POSE_SMOOTHING if len(pose) >= POSE_SMOOTHING else (len(pose) - 1) // 2 * 2 + 1
    if window <= 2:  # too short for an order-2 fit: nothing to smooth
        return pose
    return np.asarray(savgol_filter(pose, window, 2, axis=0), np.float32)


def coefficients(
    networks: dict[str, Any], mels: np.ndarray, source: np.ndarray, ratio: np.ndarray, pose_style: int, seed: int
) -> np.ndarray:
    """[T, 70] per-frame coefficients: predicted expression (64) and smoothed head pose (6).

    `source` is the photo's [>= 70] coefficients; `seed` fixes audio2pose's latent draws (the same
    sentence moves the head the same way every time it is rendered).
    """
    device = next(networks["audio2exp"].parameters()).device
    frames = mels.shape[1]
    ref = torch.from_numpy(np.repeat(source[None, None, :70], frames, axis=1)).to(device)
    batch: dict[str, Any] = {
        "indiv_mels": torch.from_numpy(mels).to(device),
        "ref": ref,
        "ratio_gt": torch.from_numpy(ratio).to(device),
        "num_frames": frames,
        "class": torch.LongTensor([pose_style]).to(device),
    }
    with torch.inference_mode():
        exp = networks["audio2exp"].test(batch)["exp_coeff_pred"][0]
        with torch.random.fork_rng(devices=[]):  # audio2pose draws from torch's global generator
            torch.manual_seed(seed)
            pose = networks["audio2pose"].test(batch)["pose_pred"][0]
    return np.concatenate([exp.float().cpu().numpy(), _smooth(pose.float().cpu().numpy())], axis=1)


def semantics(per_frame: np.ndarray, source: np.ndarray, coeff_nc: int) -> tuple[np.ndarray, np.ndarray]:
    """The renderer's inputs: source [1, nc, 27] and target [T, nc, 27] coefficient windows.

    A 73-coefficient mapping ('full') reads the photo's alignment (trans_params[2:]) on every frame too.
    """
    width = 2 * SEMANTIC_RADIUS + 1
    src = np.repeat(source[:coeff_nc, None], width, axis=1)[None]
    if coeff_nc > per_frame.shape[1]:
        per_frame = np.concatenate(
            [per_frame, np.repeat(source[None, per_frame.shape[1] : coeff_nc], len(per_frame), 0)], 1
        )
    index = np.arange(len(per_frame))[:, None] + np.arange(-SEMANTIC_RADIUS, SEMANTIC_RADIUS + 1)[None]
    windows = per_frame[np.clip(index, 0, len(per_frame) - 1)]  # [T, 27, nc]
    return src.astype(np.float32), np.ascontiguousarray(windows.transpose(0, 2, 1), np.float32)


def keypoints(networks: dict[str, Any], canonical: torch.Tensor, windows: torch.Tensor) -> dict[str, torch.Tensor]:
    """MappingNet on [B, nc, 27] windows, then the canonical keypoints [1, 15, 3] moved by each."""
    he = networks["mapping"](windows)
    return keypoint_transformation({"value": canonical.expand(len(windows), -1, -1)}, he)
