from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private weights folder holding only the repository's manifest (models come from packages)."""
    wd = tmp_path_factory.mktemp("weights")
    shutil.copy(REPO / "weights" / "manifest.toml", wd / "manifest.toml")
    return wd


@pytest.fixture(scope="session")
def fox() -> tuple[np.ndarray, int]:
    pytest.importorskip("piper")
    from server.speech.testing import say

    return say("The quick brown fox jumps over the lazy dog.")
