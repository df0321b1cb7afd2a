"""Persona answered by any OpenAI-compatible chat server (Ollama, llama.cpp's server, vLLM...)."""

from __future__ import annotations

from collections.abc import Sequence

from server.backends import PersonaBackend
from server.hookspecs import hookimpl


@hookimpl
def register_persona_backends() -> Sequence[type[PersonaBackend]]:
    from plugins.openai_compatible.backend import OpenAICompatiblePersona

    return [OpenAICompatiblePersona]
