"""Piper voice plugin: registers the `piper` backend (imports stay cheap; the voice loads in load())."""

from __future__ import annotations

from collections.abc import Sequence

from server.backends import VoiceBackend
from server.hookspecs import hookimpl


@hookimpl
def register_voice_backends() -> Sequence[type[VoiceBackend]]:
    from plugins.piper.backend import PiperVoiceBackend

    return [PiperVoiceBackend]
