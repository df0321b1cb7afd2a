"""Every hook a Memoria plugin can implement.

Hooks only register backend classes; streaming happens on the backend objects because pluggy
has no async hooks. A plugin module implements any of these with `@hookimpl`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pluggy

from server.backends import AnimatorBackend, ASRBackend, PersonaBackend, VoiceBackend

PROJECT = "memoria"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_asr_backends() -> Sequence[type[ASRBackend]]:
    """Return ASRBackend subclasses this plugin provides."""


@hookspec
def register_persona_backends() -> Sequence[type[PersonaBackend]]:
    """Return PersonaBackend subclasses this plugin provides."""


@hookspec
def register_voice_backends() -> Sequence[type[VoiceBackend]]:
    """Return VoiceBackend subclasses this plugin provides."""


@hookspec
def register_animator_backends() -> Sequence[type[AnimatorBackend]]:
    """Return AnimatorBackend subclasses this plugin provides."""
