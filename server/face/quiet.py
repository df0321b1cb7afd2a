"""Mediapipe's native start-up chatter kept off a newcomer's terminal.

Its C++ side (TensorFlow Lite, absl, glog) writes straight to file descriptor 2 when a graph is
built and first run ("Created TensorFlow Lite XNNPACK delegate", "All log messages before
absl::InitializeLog() ...", feedback-manager and NORM_RECT warnings): harmless, and alarming to
someone starting Memoria for the first time. While `native_chatter_dropped()` is active, fd 2 goes
to a temporary file; afterwards every line that is not one of those known messages is written to
the real stderr, so real warnings and errors still show.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator

KNOWN = re.compile(
    r"Created TensorFlow Lite XNNPACK delegate|All log messages before absl::InitializeLog|"
    r"inference_feedback_manager\.cc|landmark_projection_calculator\.cc|gl_context\.cc|"
    r"Feedback manager requires a model"
)
_lock = threading.Lock()


@contextlib.contextmanager
def native_chatter_dropped() -> Iterator[None]:
    with _lock, tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines() if not KNOWN.search(line)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")
                sys.stderr.flush()
