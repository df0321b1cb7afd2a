"""Indices into mediapipe's 478-point face mesh that the face code names.

Kept in one place so analysis, preparation and the benchmark agree on what "upper lip" means.
"""

from __future__ import annotations

# Outer face contour, clockwise from the top of the forehead.
FACE_OVAL = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
)
FOREHEAD = 10
CHIN = 152
NOSE_TIP = 1
NOSE_BRIDGE = 168
CHEEK_LEFT = 234  # image left (the person's right)
CHEEK_RIGHT = 454

# Lips: outer and inner rings, from the left mouth corner along the upper lip to the right corner
# and back along the lower lip.
LIPS_OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_OUTER_LOWER = (291, 375, 321, 405, 314, 17, 84, 181, 91, 146, 61)
LIPS_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_INNER_LOWER = (308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78)
MOUTH_LEFT = 61
MOUTH_RIGHT = 291
INNER_LEFT = 78
INNER_RIGHT = 308
UPPER_LIP_INNER = 13
LOWER_LIP_INNER = 14
UPPER_LIP_OUTER = 0
LOWER_LIP_OUTER = 17

# Eyes (image left = the person's right): upper and lower lid rings, corner to corner.
EYE_LEFT_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
EYE_LEFT_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
EYE_RIGHT_UPPER = (362, 398, 384, 385, 386, 387, 388, 466, 263)
EYE_RIGHT_LOWER = (362, 382, 381, 380, 374, 373, 390, 249, 263)
EYE_LEFT_TOP, EYE_LEFT_BOTTOM, EYE_LEFT_OUTER, EYE_LEFT_INNER = 159, 145, 33, 133
EYE_RIGHT_TOP, EYE_RIGHT_BOTTOM, EYE_RIGHT_OUTER, EYE_RIGHT_INNER = 386, 374, 263, 362
IRIS_LEFT = 468  # centre of the iris on image left (refine_landmarks)
IRIS_RIGHT = 473
BROW_LEFT = (70, 63, 105, 66, 107)
BROW_RIGHT = (336, 296, 334, 293, 300)

# Jaw line below the mouth corners (moves when the jaw opens).
JAW = (132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361)
