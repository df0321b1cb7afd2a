"""What the neural face engines (Wav2Lip, SadTalker, FOMM, or a plugin's own) share: the device and
batch settings, a measured answer to "does this keep up with a live call here", and the reply's
audio gathered at the rate a network reads it. torch is imported only when a backend loads.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Annotated, Any, Literal

import msgspec
import numpy as np

from server.media import AudioChunk
from server.media.types import VIDEO_FPS

FRAME_BUDGET_MS = 1000 / VIDEO_FPS
HEADROOM = 0.7  # a live engine may use this share of a frame's time; the rest is the call's
CLEARLY_SLOW = 10  # a warm-up this many frame budgets per frame is not live, whatever a re-timing says


class NeuralConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Settings every neural animator takes (its `[config.NAME]` table adds its own)."""

    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: cuda when torch sees a GPU
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=128)] = 16
    # auto: live in a call when it measures fast enough here, else warp live and this one in the
    # background (see docs/architecture.md); always / never force either.
    live: Literal["auto", "always", "never"] = "auto"
    threads: Annotated[int, msgspec.Meta(ge=0, le=64)] = 0  # CPU threads for torch; 0: torch's default


def pick_device(choice: str) -> str:
    import torch

    if choice == "cuda" and not torch.cuda.is_available():
        from server.errors import ConfigError

        raise ConfigError("device = 'cuda' but torch sees no GPU", hint="set device = 'auto' or 'cpu'")
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return choice


def use_threads(threads: int) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


class Speed(msgspec.Struct, frozen=True):
    """A measured render speed, and whether a live call can use it."""

    ms_per_frame: float
    device: str
    live: bool

    def describe(self, name: str) -> str:
        fps = 1000 / self.ms_per_frame if self.ms_per_frame else float("inf")
        return f"{name} renders {fps:.1f} frames/s on {self.device} (a call needs {VIDEO_FPS})"


def measure(render: Callable[[], Any], frames: int, *, device: str, setting: str, repeats: int = 2) -> Speed:
    """Time `render()` (which draws `frames` frames) after one warm-up; the best of `repeats`.

    A warm-up already far too slow for a live call (seconds per frame on a CPU) decides alone:
    timing it again would only keep the CPU from the call that is about to start.
    """
    started = time.perf_counter()
    render()
    _synchronize(device)
    best = time.perf_counter() - started
    if 1000 * best / frames <= CLEARLY_SLOW * FRAME_BUDGET_MS:
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            render()
            _synchronize(device)
            best = min(best, time.perf_counter() - started)
    ms = 1000 * best / frames
    live = setting == "always" or (setting == "auto" and ms <= HEADROOM * FRAME_BUDGET_MS)
    return Speed(ms_per_frame=ms, device=device, live=live)


def settle_heap() -> None:
    """After loading a large network: collect once, then keep everything alive now out of the
    garbage collector's scans. Torch modules are big object graphs; a full collection walking them
    mid-call pauses every thread long enough to send a frame late."""
    import gc

    gc.collect()
    gc.freeze()


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


class AudioTrack:
    """A reply's audio as it arrives, at `rate` (what a network's audio features want), with the
    sample count of the stream's first chunk so frame indices line up with the call's."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.parts: list[np.ndarray] = []
        self.samples = 0
        self.source_rate = 0
        self.first_frame: int | None = None
        self.ended = False
        self._resampler: Any = None

    def add(self, chunk: AudioChunk) -> None:
        if self.first_frame is None:
            self.source_rate = chunk.sample_rate
            self.first_frame = chunk.pts * VIDEO_FPS // chunk.sample_rate
        part = chunk.as_float()
        if chunk.sample_rate != self.rate:
            if self._resampler is None:
                import soxr

                self._resampler = soxr.ResampleStream(chunk.sample_rate, self.rate, 1, dtype="float32")
            part = self._resampler.resample_chunk(part)
        self._append(part)

    def _append(self, part: np.ndarray) -> None:
        self.parts.append(np.asarray(part, np.float32))
        self.samples += len(part)

    def finish(self) -> None:
        """The stream ended: take what the resampler still holds."""
        if self._resampler is not None and not self.ended:
            self._append(self._resampler.resample_chunk(np.zeros(0, np.float32), last=True))
        self.ended = True

    def audio(self) -> np.ndarray:
        if len(self.parts) > 1:
            self.parts = [np.concatenate(self.parts)]
        return self.parts[0] if self.parts else np.zeros(0, np.float32)

    def seconds(self) -> float:
        return self.samples / self.rate

    def loudness(self, frame: int) -> float:
        """RMS of the audio under local frame `frame` (0 = the stream's first)."""
        per = self.rate // VIDEO_FPS
        window = self.audio()[frame * per : (frame + 1) * per]
        return float(np.sqrt(np.mean(window**2))) if len(window) else 0.0

    async def tee(self, audio: AsyncIterable[AudioChunk]) -> AsyncIterator[AudioChunk]:
        """Pass `audio` on (to the animator underneath) while keeping it here."""
        async for chunk in audio:
            self.add(chunk)
            yield chunk
        self.finish()
