"""A learned voice that garbles words is not used: the user is told why and calls keep the
unadapted voice. Scripted voice and recogniser (fakes with knobs) stand in for Piper and Whisper."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from server.backends import ASRBackend, BackendInfo, BackendKind, VoiceBackend, VoiceProfile
from server.domain.media.voice_check import SENTENCES
from server.hookspecs import hookimpl
from server.media import AudioChunk, Transcript
from server.registry import Registry, RegistryFile

from .conftest import Client, Login, MakeAvatar
from .test_media_learning import settled, speech_wav, stored_profile


class MumblingVoice(VoiceBackend):
    """Learns `{"mumbles": <[config.test-mumbler] mumbles>}`; its audio says which test sentence it
    is and whether it was spoken with the learned voice."""

    info = BackendInfo(name="test-mumbler", kind=BackendKind.VOICE)

    async def learn(self, samples: tuple[Path, ...]) -> Mapping[str, Any]:
        return {"mumbles": bool(self.config.get("mumbles"))}

    def clearer(self, learned: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """With `[config.test-mumbler] clearer = true`: a gentler version that does not mumble."""
        if not self.config.get("clearer"):
            return []
        return [{**learned, "style": "still mumbling"}, {"mumbles": False, "style": "gentle"}]

    async def synthesize(self, text: str, *, voice: VoiceProfile) -> AsyncIterator[AudioChunk]:
        code = 100 * SENTENCES.index(text) + (1 if voice.learned.get("mumbles") else 0)
        yield AudioChunk(np.full(1600, code, np.int16), 16000, 0)


class Ears(ASRBackend):
    """Hears the test sentence clearly, unless it was mumbled."""

    info = BackendInfo(name="test-ears", kind=BackendKind.ASR)

    async def transcribe(self, audio: Any, *, language: str | None = None, hint: str = "") -> AsyncIterator[Transcript]:
        code = 0
        async for chunk in audio:
            code = int(chunk.samples[0])
        text = "mm hmm mumble" if code % 100 else SENTENCES[code // 100]
        yield Transcript(text=text, final=True)


class TestPlugin:
    @hookimpl
    def register_voice_backends(self) -> list[type[VoiceBackend]]:
        return [MumblingVoice]

    @hookimpl
    def register_asr_backends(self) -> list[type[ASRBackend]]:
        return [Ears]


@pytest.fixture
def mumbles() -> bool:
    return True


@pytest.fixture
def clearer() -> bool:
    return False


@pytest.fixture
def registry(tmp_path: Path, mumbles: bool, clearer: bool) -> Registry:
    file = RegistryFile(
        plugins={"modules": [], "entry_points": False},
        defaults={"voice": "test-mumbler", "asr": "test-ears"},
        config={"test-mumbler": {"mumbles": mumbles, "clearer": clearer}},
    )
    registry = Registry(file, weights_dir=tmp_path / "weights")
    registry.load(entry_points=False)
    registry.register_module(TestPlugin(), name="test-plugin")
    return registry


async def _learned_avatar(app: Litestar, client: Client, login: Login, make_avatar: MakeAvatar) -> int:
    """An avatar with one voice sample, learned and checked, whose voice is then ready."""
    headers = await login()
    avatar = await make_avatar(headers)
    assert (await client.post(f"/avatars/{avatar}/voice-samples", headers=headers, **speech_wav())).status_code == 201
    await settled(app)
    assert (await client.get(f"/avatars/{avatar}", headers=headers)).json()["voice"]["state"] == "ready"
    return avatar


async def test_a_voice_that_garbles_words_is_not_used_and_the_user_is_told(
    app: Litestar, client: Client, login: Login, make_avatar: MakeAvatar, engine: AsyncEngine
) -> None:
    headers = await login()
    avatar = await make_avatar(headers)
    sent = await client.post(f"/avatars/{avatar}/voice-samples", headers=headers, **speech_wav())
    assert sent.status_code == 201, sent.text
    await settled(app)
    voice = (await client.get(f"/avatars/{avatar}", headers=headers)).json()["voice"]
    assert voice["state"] == "failed" and voice["backend"] == "test-mumbler"
    assert "hard to understand" in voice["error"] and "100%" in voice["error"] and "0%" in voice["error"]
    assert "unadapted voice" in voice["error"] and "close to the microphone" in voice["error"]
    assert "test-mumbler" not in await stored_profile(engine, avatar)  # calls speak unadapted
    samples = (await client.get(f"/avatars/{avatar}/voice-samples", headers=headers)).json()
    assert [s["id"] for s in samples] == [sent.json()["id"]]  # the sample stays


@pytest.mark.parametrize("clearer", [True])
async def test_the_closest_clear_version_is_kept_when_the_likeness_garbles(
    app: Litestar, client: Client, login: Login, make_avatar: MakeAvatar, engine: AsyncEngine
) -> None:
    avatar = await _learned_avatar(app, client, login, make_avatar)
    assert (await stored_profile(engine, avatar))["test-mumbler"] == {"mumbles": False, "style": "gentle"}


@pytest.mark.parametrize("mumbles", [False])
async def test_a_clear_learned_voice_is_kept(
    app: Litestar, client: Client, login: Login, make_avatar: MakeAvatar, engine: AsyncEngine
) -> None:
    avatar = await _learned_avatar(app, client, login, make_avatar)
    assert (await stored_profile(engine, avatar))["test-mumbler"] == {"mumbles": False}


async def test_memoria_call_voice_gets_the_same_check(registry: Registry, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from server.cli.callee import learn_voice
    from server.pool import BackendPool

    sample = tmp_path / "mum.wav"
    sample.write_bytes(b"RIFF")  # the scripted voice does not read it
    assert await learn_voice(BackendPool(registry), registry.default_name(BackendKind.VOICE), (sample,)) == {}
    assert "hard to understand" in capsys.readouterr().err


@pytest.mark.parametrize("clearer", [True])
async def test_memoria_call_voice_keeps_a_clear_version(registry: Registry, tmp_path: Path) -> None:
    from server.cli.callee import learn_voice
    from server.pool import BackendPool

    learned = await learn_voice(
        BackendPool(registry), registry.default_name(BackendKind.VOICE), (tmp_path / "mum.wav",)
    )
    assert learned == {"mumbles": False, "style": "gentle"}
