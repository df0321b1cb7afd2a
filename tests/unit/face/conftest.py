"""Shared photos for the face tests: a real portrait (skimage's astronaut) and variants."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def head(astronaut: np.ndarray) -> np.ndarray:
    """The astronaut cropped to head and shoulders, as the animator benchmark uses it."""
    return np.ascontiguousarray(astronaut[0:360, 76:436])
