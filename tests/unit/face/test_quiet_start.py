"""A newcomer's terminal: analysing the first photo prints none of mediapipe's native start-up
chatter, while a real message written to stderr in the same window still shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import os, numpy as np
from skimage import data
from server.face.analysis import analyze_photo
from server.face.quiet import native_chatter_dropped
import plugins.piper.likeness  # pyworld, with its pkg_resources warning
analyze_photo(np.ascontiguousarray(data.astronaut()[0:360, 76:436]))
with native_chatter_dropped():
    os.write(2, b"a real problem\\n")
print("done")
"""


def test_the_first_photo_prints_no_native_chatter_but_real_messages_stay() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "done"
    for noise in ("TensorFlow Lite", "absl::InitializeLog", "inference_feedback_manager", "pkg_resources"):
        assert noise not in result.stderr, result.stderr
    assert "a real problem" in result.stderr
