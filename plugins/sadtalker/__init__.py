"""SadTalker animator plugin (`sadtalker`): see README.md."""

from __future__ import annotations

from server.backends import AnimatorBackend
from server.hookspecs import hookimpl

INSTALL = "pip install 'memoria[neural]'"  # what `memoria plugins` says when torch is missing


@hookimpl
def register_animator_backends() -> list[type[AnimatorBackend]]:
    from plugins.sadtalker.backend import SadTalkerAnimator

    return [SadTalkerAnimator]
