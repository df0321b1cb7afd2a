"""Serves the static pages under /app and sends / there."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).with_name("static")


@get("/", include_in_schema=False)
async def home() -> Redirect:
    return Redirect(path="/app/")


ROUTES: list[object] = [
    home,
    create_static_files_router(path="/app", directories=[STATIC], html_mode=True, include_in_schema=False, name="web"),
]
