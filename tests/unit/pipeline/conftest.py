"""Fixtures for pipeline tests: the basic backends as configurable fakes, a portrait, a driver."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from plugins.basic.backend import BasicAnimator, BasicASR, BasicPersona, BasicVoice
from server.backends import AvatarFace, PersonaSheet
from server.pipeline.backends import CallAvatar, CallBackends
from server.pipeline.events import Event
from server.pipeline.log import MemoryLog
from server.pipeline.session import CallSession, SessionConfig
from server.renders.cache import RenderStore


@pytest.fixture
def portrait(tmp_path: Path) -> Path:
    """A synthetic face-like picture (no data files needed)."""
    img = np.full((256, 256, 3), 200, np.uint8)
    img[60:200, 70:186] = (220, 180, 160)
    img[110:120, 100:120] = img[110:120, 136:156] = 40
    img[165:172, 110:146] = (150, 60, 60)
    path = tmp_path / "face.png"
    Image.fromarray(img).save(path)
    return path


def make_backends(**config: dict[str, Any]) -> CallBackends:
    return CallBackends(
        asr=BasicASR(config.get("asr")),
        persona=BasicPersona(config.get("persona")),
        voice=BasicVoice(config.get("voice")),
        animator=BasicAnimator(config.get("animator")),
    )


@pytest.fixture
def make_session(portrait: Path) -> Callable[..., tuple[CallSession, MemoryLog, list[Event]]]:
    def make(
        config: SessionConfig | None = None,
        *,
        avatar_id: int | None = None,
        renders: RenderStore | None = None,
        backends: CallBackends | None = None,
        **backend_config: dict[str, Any],
    ) -> tuple[CallSession, MemoryLog, list[Event]]:
        events: list[Event] = []
        log = MemoryLog()
        avatar = CallAvatar(
            face=AvatarFace(photo=portrait, size=(128, 128)),
            sheet=PersonaSheet(
                name="Ann", relationship="mother", user_name="Tom", memories=("we baked bread on Sundays",)
            ),
            avatar_id=avatar_id,
        )
        session = CallSession(
            backends or make_backends(**backend_config), avatar, log, config=config, emit=events.append, renders=renders
        )
        return session, log, events

    return make


def _speech(seconds: float, rate: int = 16000, f0: float = 150.0) -> np.ndarray:
    """A loud voiced tone standing in for the user talking."""
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * f0 * t) * 32767).astype(np.int16)


def _silence(seconds: float, rate: int = 16000) -> np.ndarray:
    return np.zeros(int(seconds * rate), np.int16)


class Driver:
    """Plays the call in fast-forward: mic in, avatar audio and video out, 20 ms per step."""

    def __init__(self, session: CallSession) -> None:
        self.session = session
        self.audio: list[np.ndarray] = []
        self.speech_steps: list[int] = []  # step numbers whose avatar audio was speech
        self.frames = 0
        self.late = 0
        self.step = 0
        self.shown: dict[int, np.ndarray] = {}  # frame index -> image, for every frame the video got

    async def play(self, mic: np.ndarray, *, step_s: float = 0.002) -> None:
        for start in range(0, len(mic), 320):
            self.session.feed_mic(mic[start : start + 320])
            samples, is_speech = self.session.read_audio()
            self.audio.append(samples)
            if is_speech:
                self.speech_steps.append(self.step)
            if self.step % 2 == 0:
                frame, late = await self.session.video_frame(self.step // 2)
                self.frames += frame is not None
                if frame is not None:
                    self.shown[self.step // 2] = frame.image
                self.late += late
            self.step += 1
            await asyncio.sleep(step_s)


@pytest.fixture
def speech() -> Callable[..., np.ndarray]:
    return _speech


@pytest.fixture
def silence() -> Callable[..., np.ndarray]:
    return _silence


@pytest.fixture
def driver() -> type[Driver]:
    return Driver
