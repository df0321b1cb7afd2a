"""SadTalker's keypoint motion (`make_animation.py`): head-pose bins -> rotation, then transformed keypoints."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

# The official code converts degrees with 3.14, not math.pi; parity needs the same constant.
_PI = 3.14


def headpose_pred_to_degree(pred: torch.Tensor) -> torch.Tensor:
    """Logits [B, 66] -> degrees [B]: softmax over the 3-degree bins, expected bin * 3 - 99."""
    idx = torch.arange(66, device=pred.device).to(pred.dtype)
    return torch.sum(F.softmax(pred, dim=1) * idx, 1) * 3 - 99


def get_rotation_matrix(yaw: torch.Tensor, pitch: torch.Tensor, roll: torch.Tensor) -> torch.Tensor:
    """Degrees [B] each -> rotation [B, 3, 3] = pitch (about x) @ yaw (about y) @ roll (about z)."""
    yaw, pitch, roll = (a / 180 * _PI for a in (yaw, pitch, roll))
    one, zero = torch.ones_like(yaw), torch.zeros_like(yaw)

    def matrix(*rows: torch.Tensor) -> torch.Tensor:
        return torch.stack(rows, dim=1).view(-1, 3, 3)

    cp, sp, cy, sy, cr, sr = (f(a) for a in (pitch, yaw, roll) for f in (torch.cos, torch.sin))
    pitch_mat = matrix(one, zero, zero, zero, cp, -sp, zero, sp, cp)
    yaw_mat = matrix(cy, zero, sy, zero, one, zero, -sy, zero, cy)
    roll_mat = matrix(cr, -sr, zero, sr, cr, zero, zero, zero, one)
    return torch.einsum("bij,bjk,bkm->bim", pitch_mat, yaw_mat, roll_mat)


def keypoint_transformation(
    kp_canonical: dict[str, torch.Tensor], he: dict[str, Any], wo_exp: bool = False
) -> dict[str, torch.Tensor]:
    """Rotate, translate and offset the canonical keypoints [B, 15, 3] by a MappingNet output.

    As the official function does, this zeroes `he["t"][:, 0]` and `he["t"][:, 2]` in place, and
    `he["yaw_in"]` / `pitch_in` / `roll_in` (degrees), when present, replace the predicted angles.
    """
    kp = kp_canonical["value"]
    yaw = he["yaw_in"] if "yaw_in" in he else headpose_pred_to_degree(he["yaw"])
    pitch = he["pitch_in"] if "pitch_in" in he else headpose_pred_to_degree(he["pitch"])
    roll = he["roll_in"] if "roll_in" in he else headpose_pred_to_degree(he["roll"])
    rot_mat = get_rotation_matrix(yaw, pitch, roll)

    t, exp = he["t"], he["exp"]
    if wo_exp:
        exp = exp * 0
    kp_rotated = torch.einsum("bmp,bkp->bkm", rot_mat, kp)
    # In place on purpose: callers of the official code see he["t"] with x and z zeroed afterwards.
    t[:, 0] = t[:, 0] * 0
    t[:, 2] = t[:, 2] * 0
    kp_t = kp_rotated + t.unsqueeze(1).repeat(1, kp.shape[1], 1)
    return {"value": kp_t + exp.view(exp.shape[0], -1, 3)}
