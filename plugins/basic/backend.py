"""The four basic backends, one module each; this module only gathers them for the hooks."""

from __future__ import annotations

from plugins.basic.animator import BasicAnimator
from plugins.basic.asr import BasicASR
from plugins.basic.persona import BasicPersona
from plugins.basic.voice import BasicVoice

__all__ = ["BasicASR", "BasicAnimator", "BasicPersona", "BasicVoice"]
