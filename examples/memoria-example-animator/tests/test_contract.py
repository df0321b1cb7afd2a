"""The plugin keeps Memoria's backend contract, checked with Memoria's own kit."""

from __future__ import annotations

import numpy as np
from memoria_example_animator.animator import BreathingAnimator

from server.testing import check_backend


async def test_keeps_the_contract() -> None:
    report = await check_backend(BreathingAnimator, config={"zoom": 0.05})
    assert report.ran and report.items == 25


def test_a_loud_frame_is_brighter_than_a_quiet_one() -> None:
    animator = BreathingAnimator({"glow": 0.5})
    picture = np.full((64, 64, 3), 100, np.uint8)
    quiet, loud = animator.frame(picture, 0, 0.0), animator.frame(picture, 0, 0.2)
    assert loud.mean() > quiet.mean() + 30
