"""Whisper ASR plugin: registers the `whisper` backend (imports stay cheap; models load in load())."""

from __future__ import annotations

from collections.abc import Sequence

from server.backends import ASRBackend
from server.hookspecs import hookimpl


@hookimpl
def register_asr_backends() -> Sequence[type[ASRBackend]]:
    from plugins.whisper.backend import WhisperASR

    return [WhisperASR]
