"""analyze_photo on real and degraded photos: landmarks land on the face, bad photos are refused."""

from __future__ import annotations

import cv2
import msgspec
import numpy as np
import pytest

from server.errors import BadInput
from server.face import topology as T
from server.face.analysis import MAX_YAW_DEG, FaceAnalysis, analyze_photo, head_pose, mouth_open_ratio
from server.face.mesh import detect_faces, face_mesh

PARTS = ("face_size", "sharpness", "frontal_pose", "lighting", "mouth_state")


def test_real_photo_gives_full_mesh_inside_face(head: np.ndarray) -> None:
    result = analyze_photo(head)
    assert len(result.landmarks) == 478
    pts = np.array(result.landmarks)
    x0, y0, x1, y1 = result.bbox
    # The astronaut's face sits in the middle-upper part of the crop, about 90-120 px wide.
    assert 80 < x1 - x0 < 140 and 90 < y1 - y0 < 150
    assert 80 < x0 < 140 and 40 < y0 < 110
    # Eyes above the mouth, nose between; the iris centres are inside the eye corners.
    eye_y = (pts[T.EYE_LEFT_TOP, 1] + pts[T.EYE_RIGHT_TOP, 1]) / 2
    assert eye_y < pts[T.NOSE_TIP, 1] < pts[T.UPPER_LIP_OUTER, 1] < pts[T.CHIN, 1]
    assert pts[T.EYE_LEFT_OUTER, 0] < pts[T.IRIS_LEFT, 0] < pts[T.EYE_LEFT_INNER, 0]
    assert result.image_size == (360, 360)


def test_quality_has_every_part_and_is_serialisable(head: np.ndarray) -> None:
    result = analyze_photo(head)
    for part in PARTS:
        assert 0.0 <= result.quality[part] <= 1.0  # type: ignore[operator]
    assert 0.0 < result.quality_score <= 1.0
    assert isinstance(result.quality["advice"], list)
    # The astronaut smiles with her teeth showing: open, but not wide open.
    assert result.quality["measures"]["mouth"] == "open"  # type: ignore[index]
    back = msgspec.json.decode(msgspec.json.encode(result), type=FaceAnalysis)
    assert back.landmarks == result.landmarks


def test_landmarks_follow_the_photo_when_it_moves(astronaut: np.ndarray, head: np.ndarray) -> None:
    a, b = analyze_photo(astronaut), analyze_photo(head)
    shift = np.array(a.landmarks) - np.array(b.landmarks)
    # head = astronaut[0:360, 76:436]: every landmark moves by (76, 0), within a pixel or two.
    assert np.median(np.abs(shift[:, 0] - 76)) < 1.5
    assert np.median(np.abs(shift[:, 1])) < 1.5


def test_blank_image_has_no_face() -> None:
    with pytest.raises(BadInput, match="no face"):
        analyze_photo(np.full((400, 400, 3), 128, np.uint8))


def test_upscaled_small_crop_is_accepted_but_scored_less_sharp(head: np.ndarray) -> None:
    small = cv2.resize(head, (120, 120), interpolation=cv2.INTER_AREA)
    up = cv2.resize(small, (360, 360), interpolation=cv2.INTER_CUBIC)
    sharp, soft = analyze_photo(head), analyze_photo(up)
    assert soft.quality["sharpness"] < sharp.quality["sharpness"] - 0.15  # type: ignore[operator]
    assert soft.quality_score < sharp.quality_score
    assert any("sharper" in a for a in soft.quality["advice"])  # type: ignore[union-attr]
    # Landmarks still agree with the sharp photo's to a few pixels.
    assert np.median(np.abs(np.array(soft.landmarks) - np.array(sharp.landmarks))) < 3


def test_large_image_is_analysed_in_its_own_coordinates(astronaut: np.ndarray) -> None:
    big = cv2.resize(astronaut, (2560, 2560), interpolation=cv2.INTER_LINEAR)
    ref, result = analyze_photo(astronaut), analyze_photo(big)
    assert result.image_size == (2560, 2560)
    scaled = np.array(result.landmarks) / 5.0
    assert np.median(np.abs(scaled - np.array(ref.landmarks))) < 2
    assert result.quality["face_size"] == 1.0


def test_tiny_face_is_refused_with_a_reason(head: np.ndarray) -> None:
    tiny = cv2.resize(head, (200, 200), interpolation=cv2.INTER_AREA)  # face ~50 px wide
    with pytest.raises(BadInput, match="too small|no face") as info:
        analyze_photo(tiny)
    assert info.value.hint


def test_two_faces_side_by_side_are_ambiguous(head: np.ndarray) -> None:
    pair = np.concatenate([head, head[:, ::-1]], axis=1)
    with pytest.raises(BadInput, match="faces"):
        analyze_photo(pair)


def test_a_face_in_the_background_is_not_ambiguous(head: np.ndarray) -> None:
    canvas = np.concatenate([head, np.full((360, 240, 3), 90, np.uint8)], axis=1)
    far = cv2.resize(head, (90, 90), interpolation=cv2.INTER_AREA)
    canvas[10:100, 380:470] = far  # a much smaller second face
    assert len(analyze_photo(canvas).landmarks) == 478


def _rotate(pts: np.ndarray, *, yaw: float = 0.0, pitch: float = 0.0) -> np.ndarray:
    a, b = np.radians(yaw), np.radians(pitch)
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    c = pts.mean(axis=0)
    return (pts - c) @ (rx @ ry).T + c


def test_head_pose_measures_turns_of_the_real_mesh(head: np.ndarray) -> None:
    box = detect_faces(head)[0]
    pts = face_mesh(head, box)
    assert pts is not None
    yaw0, pitch0, roll0 = head_pose(pts)
    assert abs(yaw0) < 10 and abs(roll0) < 10 and abs(pitch0) < 15  # the astronaut faces the camera
    yaw1, _, _ = head_pose(_rotate(pts, yaw=40))
    _, pitch1, _ = head_pose(_rotate(pts, pitch=20))
    assert abs(abs(yaw1 - yaw0) - 40) < 6
    assert abs(abs(pitch1 - pitch0) - 20) < 6
    assert abs(yaw1) > MAX_YAW_DEG  # such a photo would be refused


def test_grey_and_rgba_images_are_accepted_but_floats_are_not(head: np.ndarray) -> None:
    rgba = np.dstack([head, np.full(head.shape[:2], 255, np.uint8)])
    assert len(analyze_photo(rgba).landmarks) == 478
    with pytest.raises(BadInput):
        analyze_photo(head.astype(np.float32))


def test_mouth_ratio_grows_when_lips_part() -> None:
    pts = np.zeros((478, 3))
    pts[T.MOUTH_LEFT, :2], pts[T.MOUTH_RIGHT, :2] = (0, 0), (50, 0)
    pts[T.UPPER_LIP_INNER, :2], pts[T.LOWER_LIP_INNER, :2] = (25, -1), (25, 1)
    closed = mouth_open_ratio(pts)
    pts[T.LOWER_LIP_INNER, :2] = (25, 20)
    assert closed < 0.05
    assert mouth_open_ratio(pts) > 0.3


def test_a_turned_head_is_refused_with_its_angle(head: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.face import analysis

    real = face_mesh(head, detect_faces(head)[0])
    assert real is not None
    # A fake mesh: the real landmarks turned 45 degrees, as a profile photo would give.
    monkeypatch.setattr(analysis, "face_mesh", lambda rgb, box: _rotate(real, yaw=45))
    with pytest.raises(BadInput, match="turned too far") as info:
        analyze_photo(head)
    assert "camera" in (info.value.hint or "")
