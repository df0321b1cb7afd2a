"""Voice samples: common formats are converted to 16-bit mono WAV at 22,050 Hz; video, empty,
silent, too short and oversized files are refused with a clear message, leaving nothing behind."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.db.models import VoiceSample
from server.media.audio_io import STORE_RATE

from . import samples
from .conftest import Client, Login, MakeAvatar
from .helpers import files_under, table_counts, upload

GOOD = {
    "wav 16 kHz": ("rose.wav", lambda: samples.wav_bytes(samples.vowel(2.0)), 2.0),
    "wav stereo 44.1 kHz": (
        "rose.wav",
        lambda: samples.wav_bytes(np.repeat(samples.vowel(1.5, 44_100), 2), 44_100, channels=2),
        1.5,
    ),
    "mp3": ("rose.mp3", lambda: samples.encoded_audio("mp3", "libmp3lame"), 2.0),
    "ogg opus": ("rose.ogg", lambda: samples.encoded_audio("ogg", "libopus"), 2.0),
}


@pytest.mark.parametrize("case", list(GOOD))
async def test_voice_sample_is_converted_and_stored(
    case: str,
    client: Client,
    engine: AsyncEngine,
    login: Login,
    make_avatar: MakeAvatar,
    data_dir: Path,
) -> None:
    name, make, seconds = GOOD[case]
    headers = await login()
    avatar_id = await make_avatar(headers)
    response = await client.post(
        f"/avatars/{avatar_id}/voice-samples", headers=headers, **upload(f"C:\\phone\\{name}", make())
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["original_name"] == name  # folders stripped
    assert body["sample_rate"] == STORE_RATE
    assert body["duration_s"] == pytest.approx(seconds, abs=0.1)  # codecs pad a little

    stored = await client.get(f"/avatars/{avatar_id}/voice-samples/{body['id']}/file", headers=headers)
    assert stored.status_code == 200 and stored.headers["content-type"].startswith("audio/wav")
    with wave.open(io.BytesIO(stored.content)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, STORE_RATE)
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert len(pcm) / STORE_RATE == pytest.approx(body["duration_s"], abs=0.01)
    assert np.abs(pcm).max() > 5000  # the voice is there, not silence

    async with AsyncSession(engine) as session:
        row = (await session.scalars(select(VoiceSample))).one()
    assert (data_dir / row.path).read_bytes() == stored.content
    assert row.path.startswith(f"avatars/{avatar_id}/voice/")


async def test_list_and_delete(client: Client, login: Login, make_avatar: MakeAvatar, data_dir: Path) -> None:
    headers = await login()
    avatar_id = await make_avatar(headers)
    url = f"/avatars/{avatar_id}/voice-samples"
    ids = [
        (await client.post(url, headers=headers, **upload(f"{i}.wav", samples.wav_bytes(samples.vowel(1.2))))).json()[
            "id"
        ]
        for i in range(2)
    ]
    assert [s["id"] for s in (await client.get(url, headers=headers)).json()] == ids
    assert (await client.get(f"{url}/{ids[0]}", headers=headers)).json()["original_name"] == "0.wav"
    assert (await client.delete(f"{url}/{ids[0]}", headers=headers)).status_code == 204
    assert [s["id"] for s in (await client.get(url, headers=headers)).json()] == ids[1:]
    assert len(list((data_dir / f"avatars/{avatar_id}/voice").iterdir())) == 1
    assert (await client.get(f"{url}/{ids[0]}/file", headers=headers)).status_code == 404


BAD_VOICE = {
    "zero-length WAV": ("empty.wav", lambda: samples.wav_bytes(np.zeros(0, np.int16)), 400, "empty"),
    "zero-byte file": ("nothing.wav", lambda: b"", 400, "empty"),
    "video file": ("clip.mp4", samples.video_mp4, 415, "this is a video"),
    "text named .wav": ("notes.wav", lambda: b"hello, this is not audio at all\n" * 10, 415, "not WAV, MP3"),
    "JPEG named .mp3": ("face.mp3", samples.face_jpeg, 415, "not WAV, MP3"),
    "too short": ("short.wav", lambda: samples.wav_bytes(samples.vowel(0.4)), 400, "at least 1 s"),
    "too long": ("long.wav", lambda: samples.wav_bytes(samples.vowel(40.0, 8000), 8000), 413, "limit is 30 s"),
    "silence": ("silence.wav", lambda: samples.wav_bytes(np.zeros(32_000, np.int16)), 400, "silent"),
    "truncated header": ("cut.wav", lambda: samples.wav_bytes(samples.vowel(2.0))[:30], 400, "could not be decoded"),
    "60 MB upload": ("huge.wav", lambda: bytes(60 * 1024 * 1024), 413, "larger than the 25 MiB limit"),
}


@pytest.mark.parametrize("case", list(BAD_VOICE))
async def test_bad_voice_sample_is_refused_and_leaves_nothing(
    case: str,
    client: Client,
    engine: AsyncEngine,
    login: Login,
    make_avatar: MakeAvatar,
    data_dir: Path,
) -> None:
    name, make, status, words = BAD_VOICE[case]
    headers = await login()
    avatar_id = await make_avatar(headers)
    rows, files = await table_counts(engine), files_under(data_dir)
    response = await client.post(
        f"/avatars/{avatar_id}/voice-samples", headers=headers, **upload(name, make(), "audio/wav")
    )
    assert response.status_code == status, response.text
    assert words in response.json()["error"], response.json()
    assert await table_counts(engine) == rows
    assert files_under(data_dir) == files
