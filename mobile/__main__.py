"""`python -m mobile`: run the app on a desktop."""

from __future__ import annotations

import os

os.environ.setdefault("KIVY_NO_ARGS", "1")

from mobile.main import run

run()
