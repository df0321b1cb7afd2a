"""The renderer on a real photo: no seams at region edges, a drawn mouth interior on a closed
mouth, and a rig that survives the disk cache unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from plugins.warp.mouth import MouthShape
from plugins.warp.render import FaceParams, Renderer
from plugins.warp.rig import Rig, build_rig, load_rig, save_rig
from server.face.analysis import analyze_photo

STRONG = FaceParams(
    mouth=MouthShape(open=0.35, round=0.5, spread=0.3, tongue=0.5),
    blink=0.7,
    gaze=(0.5, -0.5),
    motion={"tx": 3, "ty": -2, "roll": 2, "yaw": 3, "pitch": 2, "breath": 1, "smile": 4, "brow_up": 4, "squint": 1},
)


@pytest.fixture(scope="module")
def rig(head: np.ndarray, head_landmarks: tuple[tuple[float, float], ...]) -> Rig:
    return build_rig(head, np.array(head_landmarks, np.float32), (512, 512))


def test_the_warp_is_continuous_across_every_region_edge(rig: Rig) -> None:
    r = Renderer(rig)
    r.render(STRONG)
    offset = r.map - r.grid
    assert set(r.boxes) == {"mouth", "eye_left", "eye_right"}
    for name, (y0, x0, y1, x1) in r.boxes.items():  # the boxes ride with the head
        edges = [
            (offset[y0:y1, x0], offset[y0:y1, x0 - 1]),
            (offset[y0:y1, x1 - 1], offset[y0:y1, x1]),
            (offset[y0, x0:x1], offset[y0 - 1, x0:x1]),
            (offset[y1 - 1, x0:x1], offset[y1, x0:x1]),
        ]
        for inside, outside in edges:
            assert np.abs(inside - outside).max() < 0.6, f"seam at the edge of the {name} box"


def test_rest_renders_the_photo_itself_apart_from_the_mouth(rig: Rig) -> None:
    out = Renderer(rig).render(FaceParams(mouth=MouthShape(open=float(rig.mouth.gap0.max() / rig.mouth.mouth_w))))
    diff = np.abs(out.astype(int) - rig.base.astype(int)).mean(axis=2)
    m = rig.mouth
    diff[m.y0 : m.y1, m.x0 : m.x1] = 0
    assert diff.mean() < 0.5


def test_a_closed_mouth_photo_gets_drawn_teeth_and_a_dark_interior(rig: Rig) -> None:
    closed = Renderer(rig).render(FaceParams(mouth=MouthShape(open=0.0)))
    landmarks = np.array(analyze_photo(closed).landmarks, np.float32)
    closed_rig = build_rig(closed, landmarks, (512, 512))
    m = closed_rig.mouth
    assert m.gap0.max() == 0  # recognised as closed: nothing of its own to reuse
    out = Renderer(closed_rig).render(FaceParams(mouth=MouthShape(open=0.3, tongue=0.0)))
    x = round(m.cx)
    gap = 0.3 * m.mouth_w
    top = m.y_up[x - m.x0] - 0.25 * gap  # the upper lip rises by a quarter of the opening
    # Straight below the upper lip: teeth (bright); further down: the mouth's shadowed inside.
    teeth = out[int(top + 0.06 * m.mouth_w), x].mean()
    inside = out[int(top + 0.55 * gap), x].mean()
    assert teeth > 150 and inside < 110


def test_rig_round_trips_through_the_cache_file(rig: Rig, tmp_path: Path) -> None:
    path = tmp_path / "rig.npz"
    save_rig(rig, path)
    back = load_rig(path)
    assert np.array_equal(back.base, rig.base) and np.array_equal(back.coarse, rig.coarse)
    assert back.mouth.x0 == rig.mouth.x0 and np.array_equal(back.mouth.y_up, rig.mouth.y_up)
    assert np.array_equal(Renderer(back).render(STRONG), Renderer(rig).render(STRONG))
