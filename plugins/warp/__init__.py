"""warp: the default CPU animator (hookimpls only; the backend imports on use)."""

from __future__ import annotations

from collections.abc import Sequence

from server.backends import AnimatorBackend
from server.hookspecs import hookimpl


@hookimpl
def register_animator_backends() -> Sequence[type[AnimatorBackend]]:
    from plugins.warp.backend import WarpAnimator

    return [WarpAnimator]
