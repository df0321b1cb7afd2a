"""Run the app where there is no screen (tests, CI, screenshots): a private Xvfb display.

Kivy creates its window when `kivy.core.window` is first imported, so call `ensure_display()`
before importing any screen. Software GL (Mesa llvmpipe) renders under Xvfb.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile

KIVY_TEST_ENV = {
    "KIVY_NO_ARGS": "1",  # pytest's arguments are not the app's
    "KIVY_NO_CONSOLELOG": "1",
    "KIVY_LOG_MODE": "PYTHON",  # leave the root logger and stderr alone (pytest's capture, other tests)
    "KIVY_NO_FILELOG": "1",
    "KIVY_USE_DEFAULTCONFIG": "1",  # never read or write ~/.kivy/config.ini
    "KIVY_WINDOW": "sdl2",
    "KIVY_GL_BACKEND": "sdl2",
    "KIVY_CLIPBOARD": "sdl2",
    "KIVY_METRICS_DENSITY": "1",  # 1 dp == 1 px, so layout checks read in dp
}


def ensure_display(width: int = 1280, height: int = 1024) -> bool:
    """Make sure there is an X display (start Xvfb if needed); False if none can be had."""
    for key, value in KIVY_TEST_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
    if os.environ.get("DISPLAY"):
        return True
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        return False
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        process.terminate()
        return False
    atexit.register(_stop, process)
    os.environ["DISPLAY"] = f":{number}"
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
