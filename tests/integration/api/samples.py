"""Upload files made in the test: a real face, synthetic speech-like audio in several formats,
a video, and the hostile files (truncated, bomb, disguised text)."""

from __future__ import annotations

import functools
import io
import struct
import wave
import zlib

import numpy as np
from PIL import Image


@functools.cache
def face_jpeg() -> bytes:
    """The astronaut photo from scikit-image, cropped to her head: a real face with teeth showing."""
    from skimage import data

    out = io.BytesIO()
    Image.fromarray(data.astronaut()[0:360, 76:436]).save(out, format="JPEG", quality=92)
    return out.getvalue()


def landscape_jpeg() -> bytes:
    """A real photo without any face (coffee cup from scikit-image)."""
    from skimage import data

    out = io.BytesIO()
    Image.fromarray(data.coffee()).save(out, format="JPEG", quality=90)
    return out.getvalue()


def vowel(seconds: float, rate: int = 16_000) -> np.ndarray:
    """A voiced, vowel-like int16 signal: harmonics of a wavering pitch with a syllable envelope."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 125 + 12 * np.sin(2 * np.pi * 3.0 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    formants = (700, 1200, 2600)
    wave_ = sum(
        np.sin(k * phase) * sum(np.exp(-((((k * 125) - f) / 150.0) ** 2)) for f in formants) for k in range(1, 30)
    )
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t) ** 2
    x = wave_ * envelope
    return (x / np.abs(x).max() * 14_000).astype(np.int16)


def wav_bytes(samples: np.ndarray, rate: int = 16_000, channels: int = 1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()


def encoded_audio(container: str, codec: str, seconds: float = 2.0, rate: int = 16_000) -> bytes:
    """The vowel encoded with PyAV, e.g. ("mp3", "libmp3lame") or ("ogg", "libopus")."""
    import av

    samples = vowel(seconds, rate)
    out = io.BytesIO()
    with av.open(out, "w", format=container) as c:
        codec_rate = 48_000 if codec == "libopus" else rate
        stream = c.add_stream(codec, rate=codec_rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=codec_rate)
        for part in resampler.resample(frame):
            for packet in stream.encode(part):
                c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    return out.getvalue()


def video_mp4(seconds: float = 1.0) -> bytes:
    """A small MP4 with a picture track and a sound track: what a phone gives for a filmed clip."""
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as c:
        video = c.add_stream("mpeg4", rate=25)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = c.add_stream("aac", rate=16_000)
        audio.layout = "mono"
        for i in range(int(seconds * 25)):
            picture = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 9 % 255, np.uint8), format="rgb24")
            for packet in video.encode(picture):
                c.mux(packet)
        sound = av.AudioFrame.from_ndarray(vowel(seconds).reshape(1, -1), format="s16", layout="mono")
        sound.sample_rate = 16_000
        resampler = av.AudioResampler(format=audio.format.name, layout="mono", rate=16_000)
        for part in resampler.resample(sound):
            for packet in audio.encode(part):
                c.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                c.mux(packet)
    return out.getvalue()


def bomb_png(side: int = 20_000) -> bytes:
    """A valid ~50 KB PNG declaring side x side pixels (400 M at 20,000): a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    row = b"\x00" + b"\x00" * ((side + 7) // 8)  # filter byte + one bit per pixel
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
