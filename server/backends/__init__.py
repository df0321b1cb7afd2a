"""Backend contracts: the four kinds of component a plugin can provide."""

from server.backends.animator import AnimatorBackend, AvatarFace
from server.backends.asr import ASRBackend
from server.backends.base import (
    Backend,
    BackendInfo,
    BackendKind,
    BackendStatus,
    Readiness,
    WeightSpec,
)
from server.backends.persona import PersonaBackend, PersonaSheet, Role, Turn
from server.backends.voice import VoiceBackend, VoiceProfile

BASE_CLASS: dict[BackendKind, type[Backend]] = {
    BackendKind.ASR: ASRBackend,
    BackendKind.PERSONA: PersonaBackend,
    BackendKind.VOICE: VoiceBackend,
    BackendKind.ANIMATOR: AnimatorBackend,
}

__all__ = [
    "BASE_CLASS",
    "ASRBackend",
    "AnimatorBackend",
    "AvatarFace",
    "Backend",
    "BackendInfo",
    "BackendKind",
    "BackendStatus",
    "PersonaBackend",
    "PersonaSheet",
    "Readiness",
    "Role",
    "Turn",
    "VoiceBackend",
    "VoiceProfile",
    "WeightSpec",
]
