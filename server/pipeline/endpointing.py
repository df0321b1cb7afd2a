"""Decides when the user starts and stops talking (voice activity endpointing).

An energy detector with an adaptive noise floor, on 20 ms frames at 16 kHz: quick to notice
speech (for barge-in) and patient before declaring the end (so a pause is not cut off). Any
object with the same `feed` works in its place (e.g. a Silero-based detector).
"""

from __future__ import annotations

import enum
from typing import Protocol

import msgspec
import numpy as np

RATE = 16000
FRAME = RATE // 50  # 20 ms
TAIL_FRAMES = 5  # quiet kept after the last loud frame (100 ms), so word endings are not clipped


class Edge(enum.StrEnum):
    START = "start"
    PAUSE = "pause"  # a short quiet: the end is likely, work may start early (carries the audio so far)
    RESUME = "resume"  # speech came back after a PAUSE: drop that early work
    END = "end"


class VoiceEvent(msgspec.Struct, frozen=True):
    """Speech started or ended at `sample` (16 kHz samples since the call began)."""

    edge: Edge
    sample: int
    audio: np.ndarray | None = None  # the whole utterance (int16, 16 kHz) on END


class Endpointer(Protocol):
    def feed(self, samples: np.ndarray) -> list[VoiceEvent]:
        """Take int16 mono 16 kHz samples; return the edges they complete."""
        ...


class EnergyEndpointer:
    """Speech after `start_ms` of loud frames; its end after `end_ms` of quiet ones (PAUSE after `pause_ms`)."""

    def __init__(
        self,
        *,
        start_ms: int = 60,
        end_ms: int = 400,
        pause_ms: int = 0,
        pre_roll_ms: int = 200,
        min_rms: float = 0.012,
        ratio: float = 3.0,
    ) -> None:
        self.start_frames = max(1, start_ms // 20)
        self.end_frames = max(1, end_ms // 20)
        self.pause_frames = pause_ms // 20 if 0 < pause_ms < end_ms else 0
        self.pre_roll = pre_roll_ms // 20
        self.min_rms = min_rms
        self.ratio = ratio
        self.noise = min_rms / ratio
        self.pending = np.zeros(0, np.int16)
        self.position = 0  # samples consumed into frames
        self.speaking = False
        self.loud_run = 0
        self.quiet_run = 0
        self.recent: list[np.ndarray] = []
        self.utterance: list[np.ndarray] = []

    def feed(self, samples: np.ndarray) -> list[VoiceEvent]:
        self.pending = np.concatenate([self.pending, samples.astype(np.int16, copy=False)])
        events: list[VoiceEvent] = []
        while len(self.pending) >= FRAME:
            frame, self.pending = self.pending[:FRAME], self.pending[FRAME:]
            event = self._frame(frame)
            self.position += FRAME
            if event is not None:
                events.append(event)
        return events

    def _frame(self, frame: np.ndarray) -> VoiceEvent | None:
        x = frame.astype(np.float32) / 32768.0
        rms = float(np.sqrt(np.mean(x * x)))
        loud = rms > max(self.min_rms, self.noise * self.ratio)
        if not loud:  # track the room's noise only while it is quiet
            self.noise = 0.95 * self.noise + 0.05 * rms
        if not self.speaking:
            self.recent = [*self.recent[-(self.pre_roll + self.start_frames) :], frame]
            self.loud_run = self.loud_run + 1 if loud else 0
            if self.loud_run >= self.start_frames:
                self.speaking, self.quiet_run = True, 0
                self.utterance = list(self.recent)
                start = self.position + FRAME - self.loud_run * FRAME
                return VoiceEvent(Edge.START, sample=start)
            return None
        self.utterance.append(frame)
        if loud:
            paused = self.pause_frames and self.quiet_run >= self.pause_frames
            self.quiet_run = 0
            return VoiceEvent(Edge.RESUME, sample=self.position) if paused else None
        self.quiet_run += 1
        end = self.position + FRAME - self.quiet_run * FRAME
        if self.quiet_run == self.pause_frames:
            return VoiceEvent(Edge.PAUSE, sample=end, audio=self._spoken())
        if self.quiet_run >= self.end_frames:
            audio = self._spoken()
            self.speaking, self.loud_run = False, 0
            self.utterance, self.recent = [], []
            return VoiceEvent(Edge.END, sample=end, audio=audio)
        return None

    def _spoken(self) -> np.ndarray:
        """The utterance without the quiet after it (no need to transcribe the wait)."""
        keep = len(self.utterance) - max(0, self.quiet_run - TAIL_FRAMES)
        return np.concatenate(self.utterance[:keep])
