"""Wav2Lip's mel spectrogram and its 16-frame windows, in numpy alone (no librosa).

Reproduces the official `audio.melspectrogram` with the hparams it ships and librosa 0.7.0's
conventions (centred STFT with reflect padding, periodic Hann window, Slaney mel filterbank).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 800
HOP = 200
NUM_MELS = 80
FMIN = 55.0
FMAX = 7600.0
PREEMPHASIS = 0.97
MIN_LEVEL_DB = -100.0
REF_LEVEL_DB = 20.0
MAX_ABS_VALUE = 4.0
MEL_WINDOW = 16  # mel frames per network input: 0.2 s
MEL_FRAMES_PER_SECOND = SAMPLE_RATE / HOP  # 80


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp = 200.0 / 3.0
    min_log_mel = 1000.0 / f_sp
    logstep = np.log(6.4) / 27.0
    mel = hz / f_sp
    high = hz >= 1000.0
    return np.where(high, min_log_mel + np.log(np.maximum(hz, 1e-12) / 1000.0) / logstep, mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Inverse of `_hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    f_sp = 200.0 / 3.0
    min_log_mel = 1000.0 / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, 1000.0 * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


@lru_cache(maxsize=1)
def mel_basis() -> np.ndarray:
    """The [80, 401] float32 Slaney-normalised triangular filterbank (librosa `filters.mel`, htk=False, norm=1)."""
    fft_freqs = np.linspace(0.0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array(FMIN)), _hz_to_mel(np.array(FMAX)), NUM_MELS + 2))
    widths = np.diff(edges)
    # distance of every FFT bin from every band edge: each triangle rises from edge i to i+1, falls to i+2
    offsets = edges[:, None] - fft_freqs[None, :]
    rising = -offsets[:-2] / widths[:-1, None]
    falling = offsets[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    # Slaney's area normalisation: every band has the same total energy
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    basis = weights.astype(np.float32)
    basis.flags.writeable = False
    return basis


def _stft_magnitude(signal: np.ndarray, pad_mode: str = "reflect") -> np.ndarray:
    """|STFT| as [401, T]: centred frames (`pad_mode` padding), periodic Hann window, float32 like librosa 0.7."""
    padded = np.pad(signal, N_FFT // 2, mode=pad_mode)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)
    # librosa 0.7 stores the spectrum as complex64; keeping that cast keeps us on its numbers
    spectrum = np.fft.rfft(frames * window, axis=1).astype(np.complex64)
    return np.abs(spectrum).T


def melspectrogram(wav: np.ndarray, pad_mode: Literal["reflect", "constant"] = "reflect") -> np.ndarray:
    """Wav2Lip's normalised log-mel spectrogram [80, len(wav) // 200 + 1] in [-4, 4] of 16 kHz mono audio.

    The STFT's centred frames pad the ends by reflection (librosa 0.7, Wav2Lip's pin); SadTalker's
    copy of this code runs on librosa 0.9, whose default pads with zeros: `pad_mode="constant"`.
    """
    samples = np.asarray(wav)
    if samples.ndim != 1:
        raise ValueError(f"melspectrogram wants mono audio as a 1-D array, got shape {samples.shape}")
    if samples.size == 0:
        raise ValueError("melspectrogram got an empty recording")
    samples = samples.astype(np.float64)
    # pre-emphasis y[n] = x[n] - 0.97 x[n-1] (scipy's lfilter([1, -k], [1]) with a zero initial state)
    emphasised = np.empty_like(samples)
    emphasised[0] = samples[0]
    emphasised[1:] = samples[1:] - PREEMPHASIS * samples[:-1]
    mel = mel_basis() @ _stft_magnitude(emphasised, pad_mode)
    min_level = 10.0 ** (MIN_LEVEL_DB / 20.0)
    db = 20.0 * np.log10(np.maximum(min_level, mel.astype(np.float64))) - REF_LEVEL_DB
    scaled = 2.0 * MAX_ABS_VALUE * (db - MIN_LEVEL_DB) / -MIN_LEVEL_DB - MAX_ABS_VALUE
    return np.clip(scaled, -MAX_ABS_VALUE, MAX_ABS_VALUE).astype(np.float32)


def mel_chunks(mel: np.ndarray, fps: float = 25.0) -> list[np.ndarray]:
    """One [80, 16] window per video frame, as the official inference.py cuts them (the last one ends the mel)."""
    if mel.ndim != 2 or mel.shape[1] < MEL_WINDOW:
        raise ValueError(f"mel_chunks needs a [80, T] mel with T >= {MEL_WINDOW} (0.2 s of audio), got {mel.shape}")
    if fps <= 0:
        raise ValueError(f"mel_chunks needs a positive frame rate, got {fps}")
    frames = mel.shape[1]
    # the same float expression as the official loop, so rounding lands on the same columns
    step = MEL_FRAMES_PER_SECOND / fps
    chunks: list[np.ndarray] = []
    index = 0
    while True:
        start = int(index * step)
        if start + MEL_WINDOW > frames:
            chunks.append(mel[:, frames - MEL_WINDOW :])
            return chunks
        chunks.append(mel[:, start : start + MEL_WINDOW])
        index += 1
