"""Entry point python-for-android runs (it must be `main.py` at the top of the app folder);
build.sh puts it next to the `mobile` package in the staging folder."""

from __future__ import annotations

from mobile.main import run

run()
