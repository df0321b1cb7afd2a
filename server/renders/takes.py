"""Sentences being rendered live, on their way into the render cache: each is handed over once the
voice has finished it and every frame the animator draws for it is in; a cut turn drops the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from server.media import VideoFrame
from server.pipeline.timeline import RATE, SAMPLES_PER_FRAME

if TYPE_CHECKING:
    from server.renders.cache import ReplayCache

MAX_TAKE_S = 12.0  # longer sentences are not kept: their raw frames would hold too much memory


class Take:
    """A sentence as it is rendered live: its 48 kHz audio from a frame edge and the frames over it."""

    def __init__(self, text: str, emotion: str, start: int, run: Any) -> None:
        self.text, self.emotion, self.start, self.run = text, emotion, start, run
        self.first_frame = start // SAMPLES_PER_FRAME
        self.audio: list[np.ndarray] = []
        self.samples = 0
        self.frames: dict[int, VideoFrame] = {}
        self.end: int | None = None  # first sample after the sentence, once the voice has finished it
        self.too_long = False

    @property
    def stop_frame(self) -> int:
        """One past the sentence's last frame (the frame holding its last sample is its own)."""
        return -(-(self.end if self.end is not None else 0) // SAMPLES_PER_FRAME)

    def add_audio(self, samples: np.ndarray) -> None:
        if self.too_long:
            return
        self.audio.append(samples)
        self.samples += len(samples)
        if self.samples > MAX_TAKE_S * RATE:
            self.too_long, self.audio, self.frames = True, [], {}

    def add_frame(self, index: int, frame: VideoFrame) -> None:
        if not self.too_long and index >= self.first_frame and (self.end is None or index < self.stop_frame):
            self.frames[index] = frame

    def finish(self) -> None:
        self.end = self.start + self.samples
        self.frames = {i: f for i, f in self.frames.items() if i < self.stop_frame}

    def ready(self) -> bool:
        """Voice done and every frame the animator will draw for it is in."""
        return self.end is not None and (self.stop_frame - 1 in self.frames or bool(self.run.ended_cleanly))

    def render(self) -> tuple[np.ndarray, list[VideoFrame]] | None:
        """The audio and its frames, or None when something is missing (a partial render is never kept)."""
        if self.too_long or self.end is None or not self.samples:
            return None
        frames = []
        for index in range(self.first_frame, self.stop_frame):
            if index not in self.frames:
                break
            frames.append(self.frames[index])
        # an animator may leave out the last, partial frame; a replay holds the one before it
        if not frames or len(frames) < self.stop_frame - self.first_frame - 1:
            return None
        return np.concatenate(self.audio), frames


class Recorder:
    """One turn's live sentences; with no cache (`replays` None) it keeps nothing."""

    def __init__(self, replays: ReplayCache | None, flushes: int) -> None:
        self.replays, self.flushes = replays, flushes
        self.current: Take | None = None
        self.pending: list[Take] = []

    def open(self, text: str, emotion: str, start: int, run: Any) -> None:
        if self.replays is not None:
            self.current = Take(text, emotion, start, run)
            self.pending.append(self.current)

    def add_audio(self, samples: np.ndarray) -> None:
        if self.current is not None:
            self.current.add_audio(samples)

    def add_frame(self, index: int, frame: VideoFrame) -> None:
        if self.pending:
            for take in self.pending:
                take.add_frame(index, frame)
            self.settle()

    def close(self) -> None:
        if self.current is not None:
            self.current.finish()
            self.current = None
            self.settle()

    def settle(self) -> None:
        for take in [t for t in self.pending if t.ready()]:
            self.pending.remove(take)
            if self.replays is not None:
                self.replays.keep(take, self.flushes)

    def drop(self) -> None:
        self.current, self.pending = None, []
