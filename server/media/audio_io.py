"""Decode an uploaded voice sample with PyAV and convert it to the WAV we keep.

We keep 16-bit mono WAV at 22,050 Hz: that is the rate the offline voice (Piper) speaks at, so
likeness analysis compares the person's voice and ours at one rate without resampling either, and
it keeps the spectrum up to 11 kHz (formants, sibilants) that a 16 kHz copy would lose; ASR and
speaker-embedding code downsample to 16 kHz cheaply when they need it.

The container is chosen from the file's first bytes, and only those demuxers are allowed, so a
crafted playlist or an odd format can never make FFmpeg open other files or URLs.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np

from server.errors import BadInput, TooLarge, UnsupportedMedia
from server.settings import Limits
from server.speech.audio_io import wav_bytes

STORE_RATE = 22_050
ACCEPTED = "WAV, MP3, M4A/AAC, OGG/Opus, FLAC or WebM audio"
SILENCE_PEAK = 64  # int16; a recording that never rises above ~-54 dBFS holds no voice


class DecodedAudio(msgspec.Struct, frozen=True):
    """A voice sample as int16 mono PCM at STORE_RATE."""

    samples: np.ndarray  # int16, shape (n,)
    sample_rate: int
    source_format: str  # the demuxer that read it, e.g. "mp3"

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def sniff_container(data: bytes) -> str | None:
    """The FFmpeg demuxer for the file's real format, or None if it is not one we accept."""
    head = data[:16]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"  # accepted only so that we can say "this is a video" below
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"  # also WebM
    if head[4:8] == b"ftyp":
        return "mov"  # MP4, M4A, MOV, 3GP
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "mp3" if head[1] & 0x06 else "aac"  # MPEG audio layer bits set: MP3; zero: ADTS AAC
    return None


def decode_voice(data: bytes, limits: Limits) -> DecodedAudio:
    """Validate and decode an upload; raises BadInput/TooLarge/UnsupportedMedia with a clear reason."""
    import av  # PyAV loads FFmpeg's libraries: import on use

    if not data:
        raise BadInput("the voice sample is empty (0 bytes)", hint="record or choose the file again")
    if len(data) > limits.upload_bytes:
        raise TooLarge(f"the file is {len(data) / 2**20:.1f} MiB; the limit is {limits.upload_bytes / 2**20:.0f} MiB")
    demuxer = sniff_container(data)
    if demuxer is None:
        raise UnsupportedMedia(f"this file is not {ACCEPTED}", hint="export the recording as WAV or MP3 and try again")
    try:
        with av.open(io.BytesIO(data), mode="r", format=demuxer) as container:
            _reject_video(container)
            if not container.streams.audio:
                raise UnsupportedMedia("the file has no audio in it", hint=f"send {ACCEPTED}")
            samples = _decode_mono(container, limits)
    except av.error.FFmpegError as exc:
        raise BadInput(
            f"the audio could not be decoded ({exc.strerror or exc})", hint="the file may be damaged; export it again"
        ) from None
    return _checked(DecodedAudio(samples=samples, sample_rate=STORE_RATE, source_format=demuxer), limits)


def _reject_video(container: Any) -> None:
    import av

    for stream in container.streams.video:
        # Cover art in MP3/M4A files shows up as a one-picture video stream: that is still audio.
        if not stream.disposition & av.stream.Disposition.attached_pic:
            raise UnsupportedMedia(
                "this is a video, not a voice recording",
                hint="send only the sound: export the audio track as WAV, MP3 or M4A",
            )


def _decode_mono(container: Any, limits: Limits) -> np.ndarray:
    import av

    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="s16", layout="mono", rate=STORE_RATE)
    ceiling = int((limits.voice_max_seconds + 1.0) * STORE_RATE)  # stop decoding a huge file early
    parts: list[np.ndarray] = []
    total = 0
    for frame in _frames_then_flush(container, stream):
        for out in resampler.resample(frame):
            part = out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
            parts.append(part)
            total += len(part)
        if total > ceiling:
            raise TooLarge(
                f"the recording is longer than {limits.voice_max_seconds + 1:.0f} s; the limit is {limits.voice_max_seconds:.0f} s",
                hint="cut it into shorter clips of clear speech",
            )
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


def _frames_then_flush(container: Any, stream: Any) -> Iterator[Any]:
    """Decoded frames one at a time, then None so the resampler hands over what it still holds."""
    for packet in container.demux(stream):
        yield from packet.decode()
    yield None


def _checked(audio: DecodedAudio, limits: Limits) -> DecodedAudio:
    if len(audio.samples) == 0:
        raise BadInput("the recording is empty (no audio samples)", hint="record again; it holds no sound")
    seconds = audio.duration_s
    if seconds < limits.voice_min_seconds:
        raise BadInput(
            f"the recording is {seconds:.2f} s; it must be at least {limits.voice_min_seconds:.0f} s",
            hint="send a longer clip of the person speaking",
        )
    if seconds > limits.voice_max_seconds:
        raise TooLarge(
            f"the recording is {seconds:.0f} s; the limit is {limits.voice_max_seconds:.0f} s",
            hint="cut it into shorter clips of clear speech",
        )
    if int(np.abs(audio.samples.astype(np.int32)).max()) < SILENCE_PEAK:
        raise BadInput("the recording is silent", hint="check that the right file was chosen and that it has sound")
    return audio


def to_wav(audio: DecodedAudio) -> bytes:
    """16-bit mono PCM WAV bytes."""
    return wav_bytes(audio.samples, audio.sample_rate)
