from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def spoken() -> tuple[np.ndarray, int]:
    """A sentence in the bundled Piper voice (real speech, made here, no data files)."""
    pytest.importorskip("piper")
    from server.speech.testing import say

    return say("The quick brown fox jumps over the lazy dog.")
