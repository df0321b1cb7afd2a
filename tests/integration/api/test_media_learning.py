"""What happens after an avatar's media changes: the voice is learned in the background (real Piper)
and stored under its backend's name, the primary photo is prepared (real warp) into the call's
cache folder, and renders made for the old photo or voice are dropped."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from litestar import Litestar
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.backends import BackendInfo, BackendKind, VoiceBackend
from server.db.models import Avatar, GeneratedVideo
from server.domain.calls.callee import call_avatar
from server.hookspecs import hookimpl
from server.media import AudioChunk, VideoFrame
from server.registry import Registry, RegistryFile
from server.renders import store as render_cache
from server.storage import Storage

from . import samples
from .conftest import Client, Login, MakeAvatar
from .helpers import upload


class LearningVoice(VoiceBackend):
    """A voice whose learning is scripted: `[config.test-voice] fail = "why"` makes learn() raise;
    a set `gate` makes it wait until the test opens it."""

    info = BackendInfo(name="test-voice", kind=BackendKind.VOICE)
    gate: ClassVar[threading.Event | None] = None  # the app runs in the test client's own thread

    def synthesize(self, text: str, *, voice: Any) -> Any:  # pragma: no cover - never called here
        raise NotImplementedError

    async def learn(self, samples: tuple[Path, ...]) -> Mapping[str, Any]:
        if self.gate is not None:
            await asyncio.to_thread(self.gate.wait, 30)
        if self.config.get("fail"):
            raise RuntimeError(self.config["fail"])
        return {"by": "test-voice", "files": [p.name for p in samples]}


class TestPlugin:
    @hookimpl
    def register_voice_backends(self) -> list[type[VoiceBackend]]:
        return [LearningVoice]


@pytest.fixture
def voice_config() -> dict[str, Any]:
    return {}


@pytest.fixture
def registry(tmp_path: Path, voice_config: dict[str, Any]) -> Registry:
    """Real Piper and warp as the defaults, plus the scripted test voice."""
    file = RegistryFile(
        plugins={"modules": ["plugins.piper", "plugins.warp"], "entry_points": False},
        defaults={"voice": "piper", "animator": "warp"},
        config={"test-voice": voice_config},
    )
    registry = Registry(file, weights_dir=tmp_path / "weights")
    registry.load(entry_points=False)
    registry.register_module(TestPlugin(), name="test-plugin")
    return registry


@pytest.fixture(autouse=True)
def no_gate() -> Iterator[None]:
    yield
    LearningVoice.gate = None


async def settled(app: Litestar) -> None:
    """Wait for every background media job (learning, photo preparation) to finish."""
    await app.state.runtime.media.drain()


async def stored_profile(engine: AsyncEngine, avatar_id: int) -> dict[str, Any]:
    async with AsyncSession(engine) as session:
        return dict(await session.scalar(select(Avatar.voice_profile).where(Avatar.id == avatar_id)) or {})


def speech_wav(seconds: float = 2.0) -> dict[str, Any]:
    return upload("mum.wav", samples.wav_bytes(samples.vowel(seconds)), "audio/wav")


async def add_render(engine: AsyncEngine, data_dir: Path, avatar_id: int) -> str:
    """One cached reply of the avatar, as the call pipeline would store it."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        stored = await render_cache.store(
            session,
            Storage(data_dir),
            avatar_id=avatar_id,
            text="Hello love.",
            emotion="neutral",
            backend="warp+piper",
            audio=[AudioChunk(np.zeros(640, np.int16), 16_000, 0)],
            frames=[VideoFrame(np.zeros((16, 16, 3), np.uint8), 0)],
        )
    return stored.path


def mirrored_face() -> bytes:
    """A second, different photo of the same face."""
    out = io.BytesIO()
    Image.open(io.BytesIO(samples.face_jpeg())).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(out, format="JPEG")
    return out.getvalue()


async def render_count(engine: AsyncEngine, avatar_id: int) -> int:
    async with AsyncSession(engine) as session:
        return int(await session.scalar(select(func.count()).where(GeneratedVideo.avatar_id == avatar_id)) or 0)


async def test_samples_are_learned_by_piper_and_forgotten_with_the_last_sample(
    app: Litestar, client: Client, login: Login, make_avatar: MakeAvatar, engine: AsyncEngine
) -> None:
    headers = await login()
    avatar = await make_avatar(headers)
    assert (await client.get(f"/avatars/{avatar}", headers=headers)).json()["voice"]["state"] == "none"

    sent = await client.post(f"/avatars/{avatar}/voice-samples", headers=headers, **speech_wav())
    assert sent.status_code == 201, sent.text
    await settled(app)

    voice = (await client.get(f"/avatars/{avatar}", headers=headers)).json()["voice"]
    assert voice["state"] == "ready" and voice["backend"] == "piper" and voice["error"] is None
    profile = await stored_profile(engine, avatar)
    assert profile["piper"]["method"] == "world-knn"
    assert profile["_likeness"]["samples"] == [sent.json()["id"]]

    removed = await client.delete(f"/avatars/{avatar}/voice-samples/{sent.json()['id']}", headers=headers)
    assert removed.status_code == 204
    await settled(app)
    assert await stored_profile(engine, avatar) == {}
    assert (await client.get(f"/avatars/{avatar}", headers=headers)).json()["voice"]["state"] == "none"


async def test_the_call_gets_the_likeness_of_its_own_voice_backend_only(
    app: Litestar, client: Client, login: Login, make_avatar: MakeAvatar, engine: AsyncEngine, data_dir: Path
) -> None:
    headers = await login()
    avatar = await make_avatar(headers)
    uploads = {"photos": upload("f.jpg", samples.face_jpeg()), "voice-samples": speech_wav()}
    for folder, body in uploads.items():
        assert (await client.post(f"/avatars/{avatar}/{folder}", headers=headers, **body)).status_code == 201
    await settled(app)
    registry: Registry = app.state.runtime.registry
    storage = Storage(data_dir)

    async with AsyncSession(engine, expire_on_commit=False) as session:
        built = await call_avatar(session, storage, await session.get(Avatar, avatar), registry)
        assert built.backends["voice"] == "piper"
        assert built.voice.learned["method"] == "world-knn"
        assert len(built.voice.samples) == 1 and built.voice.samples[0].is_file()

    switched = await client.patch(f"/avatars/{avatar}", json={"backends": {"voice": "test-voice"}}, headers=headers)
    assert switched.status_code == 200
    await settled(app)
    profile = await stored_profile(engine, avatar)
    assert "piper" not in profile and profile["test-voice"]["by"] == "test-voice"
    async with AsyncSession(engine, expire_on_commit=False) as session:
        built = await call_avatar(session, storage, await session.get(Avatar, avatar), registry)
    assert built.backends["voice"] == "test-voice"
    assert dict(built.voice.learned) == profile["test-voice"]


async def test_learning_is_reported_while_it_runs(
    app: Litestar, client: Client, login: Login, make_avatar: MakeAvatar
) -> None:
    headers = await login()
    avatar = await make_avatar(headers)
    await client.patch(f"/avatars/{avatar}", json={"backends": {"voice": "test-voice"}}, headers=headers)
    LearningVoice.gate = threading.Event()
    assert (await client.post(f"/avatars/{avatar}/voice-samples", headers=headers, **speech_wav())).status_code == 201
    assert (await client.get(f"/avatars/{avatar}", headers=headers)).json()["voice"]["state"] == "learning"
    LearningVoice.gate.set()
    await settled(app)
    assert (await client.get(f"/avatars/{avatar}", headers=headers)).json()["voice"]["state"] == "ready"


@pytest.mark.parametrize("voice_config", [{"fail": "no voiced speech in the samples"}])
async def test_a_failed_learning_is_recorded_and_keeps_the_sample(
    app: Litestar, client: Client, login: Login, make_avatar: MakeAvatar, engine: AsyncEngine, data_dir: Path
) -> None:
    headers = await login()
    avatar = await make_avatar(headers)
    await client.patch(f"/avatars/{avatar}", json={"backends": {"voice": "test-voice"}}, headers=headers)
    sent = await client.post(f"/avatars/{avatar}/voice-samples", headers=headers, **speech_wav())
    assert sent.status_code == 201, sent.text
    await settled(app)

    voice = (await client.get(f"/avatars/{avatar}", headers=headers)).json()["voice"]
    assert voice["state"] == "failed" and voice["backend"] == "test-voice"
    assert "no voiced speech in the samples" in voice["error"]
    listed = (await client.get(f"/avatars/{avatar}/voice-samples", headers=headers)).json()
    assert [s["id"] for s in listed] == [sent.json()["id"]]
    kept = await client.get(f"/avatars/{avatar}/voice-samples/{sent.json()['id']}/file", headers=headers)
    assert kept.status_code == 200
    assert "test-voice" not in await stored_profile(engine, avatar)


async def test_primary_photo_is_prepared_and_a_new_one_clears_renders(
    app: Litestar, client: Client, login: Login, make_avatar: MakeAvatar, engine: AsyncEngine, data_dir: Path
) -> None:
    headers = await login()
    avatar = await make_avatar(headers)
    cache = Storage(data_dir).avatar_dir(avatar) / "cache"
    first = await client.post(f"/avatars/{avatar}/photos", headers=headers, **upload("a.jpg", samples.face_jpeg()))
    assert first.status_code == 201 and first.json()["is_primary"]
    await settled(app)
    rigs = sorted(p.name for p in cache.glob("warp-rig-*.npz"))
    assert len(rigs) == 1

    render = await add_render(engine, data_dir, avatar)
    second = await client.post(f"/avatars/{avatar}/photos", headers=headers, **upload("b.jpg", mirrored_face()))
    assert second.status_code == 201 and not second.json()["is_primary"]
    await settled(app)
    assert await render_count(engine, avatar) == 1, "a photo that is not animated changes no render"

    made = await client.put(f"/avatars/{avatar}/photos/{second.json()['id']}/primary", headers=headers)
    assert made.status_code == 200
    assert await render_count(engine, avatar) == 0 and not (data_dir / render).exists()
    await settled(app)
    assert len(set(p.name for p in cache.glob("warp-rig-*.npz")) - set(rigs)) == 1, "the new photo is prepared"


async def test_a_new_voice_sample_clears_renders(
    app: Litestar, client: Client, login: Login, make_avatar: MakeAvatar, engine: AsyncEngine, data_dir: Path
) -> None:
    headers = await login()
    avatar = await make_avatar(headers)
    await client.patch(f"/avatars/{avatar}", json={"backends": {"voice": "test-voice"}}, headers=headers)
    await add_render(engine, data_dir, avatar)
    assert (await client.post(f"/avatars/{avatar}/voice-samples", headers=headers, **speech_wav())).status_code == 201
    assert await render_count(engine, avatar) == 0
    await settled(app)
