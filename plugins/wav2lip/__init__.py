"""Wav2Lip lip-sync animator plugin (`wav2lip`): see README.md."""

from __future__ import annotations

from server.backends import AnimatorBackend
from server.hookspecs import hookimpl

INSTALL = "pip install 'memoria[neural]'"  # what `memoria plugins` says when torch is missing


@hookimpl
def register_animator_backends() -> list[type[AnimatorBackend]]:
    from plugins.wav2lip.backend import Wav2LipAnimator

    return [Wav2LipAnimator]
