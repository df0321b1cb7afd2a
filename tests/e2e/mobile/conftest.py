"""The app end to end: a display for Kivy (Xvfb) before anything imports it."""

from __future__ import annotations

from mobile.headless import ensure_display

HAVE_DISPLAY = ensure_display()
