"""Hearing the avatar before a call: one sentence in the voice a call would use, as a WAV file,
only for the avatar's owner."""

from __future__ import annotations

import io
import wave

import numpy as np


async def test_the_voice_preview_is_a_sentence_in_the_avatars_voice(client, auth, avatar_id) -> None:
    response = await client.get(f"/avatars/{avatar_id}/voice/preview", headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("audio/wav")
    assert response.headers["cache-control"] == "private, no-store"
    with wave.open(io.BytesIO(response.content)) as w:
        seconds = w.getnframes() / w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    assert seconds > 1.0 and np.abs(pcm).max() > 1000  # a spoken sentence, not silence


async def test_someone_elses_avatar_has_no_preview(client, avatar_id) -> None:
    login = {"email": "eve@example.org", "password": "correct horse battery"}
    await client.post("/auth/register", json={**login, "display_name": "Eve"})
    token = (await client.post("/auth/login", json=login)).json()["token"]
    response = await client.get(f"/avatars/{avatar_id}/voice/preview", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
