from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private, empty weights folder: the models come from their pip packages."""
    return tmp_path_factory.mktemp("weights")


@pytest.fixture(scope="session")
def fox() -> tuple[np.ndarray, int]:
    pytest.importorskip("piper")
    from server.speech.testing import say

    return say("The quick brown fox jumps over the lazy dog.")
