"""FOMM's relative motion transfer (`normalize_kp` of the official animate.py).

With relative movement the source keypoints move by the driving keypoints' displacement since the first
driving frame, so a driver's face shape does not leak into the avatar.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import ConvexHull

from plugins.fomm.keypoints import Keypoints


def movement_scale(kp_source: Keypoints, kp_driving_initial: Keypoints) -> float:
    """sqrt(area of the source keypoints' convex hull / that of the initial driving keypoints), batch item 0."""
    source_area = ConvexHull(kp_source["value"][0].detach().cpu().numpy()).volume
    driving_area = ConvexHull(kp_driving_initial["value"][0].detach().cpu().numpy()).volume
    return float(np.sqrt(source_area) / np.sqrt(driving_area))


def normalize_kp(
    kp_source: Keypoints,
    kp_driving: Keypoints,
    kp_driving_initial: Keypoints,
    adapt_movement_scale: bool = False,
    use_relative_movement: bool = False,
    use_relative_jacobian: bool = False,
) -> Keypoints:
    """The driving keypoints to animate the source with: kp_driving itself unless relative movement is on.

    Relative: value = kp_source + scale * (kp_driving - kp_driving_initial); jacobian (if also relative)
    = J_driving J_initial^-1 J_source. Like the official, the scale comes from batch item 0 only, and
    other entries of kp_driving are passed through.
    """
    # The official computes the hull whenever asked, even when unused; doing the same keeps its errors.
    scale = movement_scale(kp_source, kp_driving_initial) if adapt_movement_scale else 1.0
    kp_new = dict(kp_driving)
    if use_relative_movement:
        displacement = (kp_driving["value"] - kp_driving_initial["value"]) * scale
        kp_new["value"] = displacement + kp_source["value"]
        if use_relative_jacobian:
            change = torch.matmul(kp_driving["jacobian"], torch.inverse(kp_driving_initial["jacobian"]))
            kp_new["jacobian"] = torch.matmul(change, kp_source["jacobian"])
    return kp_new
