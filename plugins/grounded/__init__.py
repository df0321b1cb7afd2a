"""The offline default persona: replies composed from the sheet and its memories, no model."""

from __future__ import annotations

from collections.abc import Sequence

from server.backends import PersonaBackend
from server.hookspecs import hookimpl


@hookimpl
def register_persona_backends() -> Sequence[type[PersonaBackend]]:
    from plugins.grounded.backend import GroundedPersona

    return [GroundedPersona]
