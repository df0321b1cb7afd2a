"""Coqui XTTS-v2 voice cloning plugin (GPU box): registers the `coqui` backend; loads nothing at import."""

from __future__ import annotations

from collections.abc import Sequence

from server.backends import VoiceBackend
from server.hookspecs import hookimpl


@hookimpl
def register_voice_backends() -> Sequence[type[VoiceBackend]]:
    from plugins.coqui.backend import XTTSVoiceBackend

    return [XTTSVoiceBackend]
