"""Small built-in backends: honest stand-ins for the real models and configurable test fakes.

Only hook implementations live here; the classes are imported on use, and they import nothing
heavy themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.backends import AnimatorBackend, ASRBackend, PersonaBackend, VoiceBackend
from server.hookspecs import hookimpl


@hookimpl
def register_asr_backends() -> Sequence[type[ASRBackend]]:
    from plugins.basic.backend import BasicASR

    return [BasicASR]


@hookimpl
def register_persona_backends() -> Sequence[type[PersonaBackend]]:
    from plugins.basic.backend import BasicPersona

    return [BasicPersona]


@hookimpl
def register_voice_backends() -> Sequence[type[VoiceBackend]]:
    from plugins.basic.backend import BasicVoice

    return [BasicVoice]


@hookimpl
def register_animator_backends() -> Sequence[type[AnimatorBackend]]:
    from plugins.basic.backend import BasicAnimator

    return [BasicAnimator]
