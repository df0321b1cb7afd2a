"""Persona answered by Google's Gemini through the google-genai SDK."""

from __future__ import annotations

from collections.abc import Sequence

from server.backends import PersonaBackend
from server.hookspecs import hookimpl


@hookimpl
def register_persona_backends() -> Sequence[type[PersonaBackend]]:
    from plugins.gemini.backend import GeminiPersona

    return [GeminiPersona]
