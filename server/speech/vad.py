"""Voice activity endpointing: feed audio chunks at any rate, get speech-start and speech-end events.

Uses the Silero VAD v6 network that faster-whisper ships (ONNX, ~1 ms per 32 ms window on one
thread). The caller (the call pipeline) decides where an utterance ends from these events.
"""

from __future__ import annotations

import enum
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from server.errors import DependencyMissing, WeightsMissing
from server.media import AudioChunk
from server.speech.resample import StreamResampler

VAD_RATE = 16000
WINDOW = 512  # samples per Silero window at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous window the v5/v6 model expects in front


def silero_model_path() -> Path:
    """Where faster-whisper keeps silero_vad_v6.onnx; an actionable error if absent."""
    try:
        path = Path(str(resources.files("faster_whisper") / "assets" / "silero_vad_v6.onnx"))
    except ModuleNotFoundError as exc:
        raise DependencyMissing(
            "the VAD needs faster-whisper (it ships the Silero model)", hint="pip install faster-whisper==1.2.1"
        ) from exc
    if not path.is_file():
        raise WeightsMissing(f"{path} not found", hint="pip install --force-reinstall faster-whisper==1.2.1")
    return path


class SileroVad:
    """Speech probability for consecutive 512-sample windows at 16 kHz, state kept between calls."""

    def __init__(self, model_path: Path | None = None) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            str(model_path or silero_model_path()), providers=["CPUExecutionProvider"], sess_options=opts
        )
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)

    def __call__(self, window: np.ndarray) -> float:
        x = np.concatenate([self._context, window.astype(np.float32)])[None, :]
        out, self._h, self._c = self._session.run(None, {"input": x, "h": self._h, "c": self._c})
        self._context = window[-CONTEXT:].astype(np.float32)
        return float(np.asarray(out).reshape(-1)[0])


class VadEventKind(enum.StrEnum):
    SPEECH_START = "speech_start"
    SPEECH_END = "speech_end"


class VadEvent(msgspec.Struct, frozen=True):
    """Speech began or ended; `time` is seconds from the stream start (from sample counts)."""

    kind: VadEventKind
    time: float
    sample: int  # the same instant as a sample index at the input's rate


class VadEndpointer:
    """Turns a stream of chunks into speech-start / speech-end events.

    Speech starts after `min_speech_ms` of windows above `threshold`; it ends once `silence_ms`
    of windows stay below `threshold - 0.15`. The end event's time is where the silence began,
    so the caller knows both when speech stopped and (by the call time) how long it waited.
    """

    def __init__(
        self,
        *,
        silence_ms: float = 500.0,
        min_speech_ms: float = 96.0,
        threshold: float = 0.5,
        model: Any | None = None,
    ) -> None:
        if silence_ms <= 0:
            raise ValueError("silence_ms must be positive")
        self.silence_ms = silence_ms
        self.min_speech_ms = min_speech_ms
        self.threshold = threshold
        self.neg_threshold = max(threshold - 0.15, 0.01)
        self._model = model if model is not None else SileroVad()
        self._window_ms = WINDOW * 1000 / VAD_RATE
        self.reset()

    def reset(self) -> None:
        """Forget the stream (a new call or utterance)."""
        if hasattr(self._model, "reset"):
            self._model.reset()
        self._resampler: StreamResampler | None = None
        self._rate = 0
        self._pending = np.zeros(0, dtype=np.float32)
        self._windows = 0  # windows consumed
        self._voiced_run = 0
        self._silent_run = 0
        self.in_speech = False
        self.last_probability = 0.0

    def feed(self, chunk: AudioChunk) -> list[VadEvent]:
        """Consume one chunk; returns the events it completed (usually none)."""
        if self._resampler is None or chunk.sample_rate != self._rate:
            self._resampler = StreamResampler(chunk.sample_rate, VAD_RATE)
            self._rate = chunk.sample_rate
        audio = self._resampler.process(chunk.as_float())
        self._pending = np.concatenate([self._pending, audio])
        events: list[VadEvent] = []
        while len(self._pending) >= WINDOW:
            window, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
            self.last_probability = p = self._model(window)
            self._windows += 1
            event = self._step(p)
            if event is not None:
                events.append(event)
        return events

    def _step(self, p: float) -> VadEvent | None:
        if not self.in_speech:
            self._voiced_run = self._voiced_run + 1 if p >= self.threshold else 0
            if self._voiced_run * self._window_ms >= self.min_speech_ms:
                self.in_speech = True
                self._silent_run = 0
                return self._event(VadEventKind.SPEECH_START, self._windows - self._voiced_run)
            return None
        self._silent_run = self._silent_run + 1 if p < self.neg_threshold else 0
        if self._silent_run * self._window_ms >= self.silence_ms:
            self.in_speech = False
            self._voiced_run = 0
            return self._event(VadEventKind.SPEECH_END, self._windows - self._silent_run)
        return None

    def _event(self, kind: VadEventKind, window_index: int) -> VadEvent:
        time = window_index * WINDOW / VAD_RATE
        return VadEvent(kind=kind, time=time, sample=round(time * self._rate))
