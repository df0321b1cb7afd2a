"""Reading and writing audio files: PCM WAV directly, anything else through PyAV."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from server.errors import UnsupportedMedia


def read_audio(path: Path, *, mono: bool = True) -> tuple[np.ndarray, int]:
    """Float32 samples in [-1, 1] and the file's sample rate."""
    try:
        return _read_wav(path, mono=mono)
    except (wave.Error, EOFError):
        return _read_av(path)


def wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """Mono 16-bit PCM WAV; floats are clipped to [-1, 1], int16 written as is."""
    pcm = audio if audio.dtype == np.int16 else (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(np.ascontiguousarray(pcm, dtype="<i2").tobytes())
    return out.getvalue()


def write_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """`wav_bytes` to a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(audio, sample_rate))


def _read_wav(path: Path, *, mono: bool) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 2147483648.0
    elif width == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    else:
        raise wave.Error(f"unsupported sample width {width}")
    if channels > 1:
        data = data.reshape(-1, channels)
        data = data.mean(axis=1) if mono else data[:, 0]
    return data.astype(np.float32), rate


def _read_av(path: Path) -> tuple[np.ndarray, int]:
    import av  # heavy-ish; only for compressed uploads

    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            rate = stream.rate or 16000
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            parts = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray().reshape(-1))
    except (av.error.FFmpegError, IndexError) as exc:
        raise UnsupportedMedia(f"{path.name} is not a readable audio file: {exc}") from exc
    audio = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    return audio.astype(np.float32), rate
