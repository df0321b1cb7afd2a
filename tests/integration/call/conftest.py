"""A real app (basic backends, loopback WebRTC, SQLite) with a user and an avatar that has a face."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image

from server.app import create_app
from server.db.engine import make_engine, make_sessionmaker, upgrade
from server.registry import Registry, RegistryFile
from server.rtc.client import LoopbackClient
from server.rtc.ice import use_loopback
from server.settings import Settings

Client = AsyncTestClient[Litestar]
SCRIPT = ["hello mum, are you there?", "do you remember the bread?"]


@pytest.fixture
def backend_config() -> dict[str, dict[str, Any]]:
    """Per-backend config for the basic plugin; tests override it to inject faults."""
    return {"basic-asr": {"script": SCRIPT}}


@pytest.fixture
def registry(tmp_path: Path, backend_config: dict[str, dict[str, Any]]) -> Registry:
    file = RegistryFile(
        plugins={"modules": ["plugins.basic"], "entry_points": False},
        defaults={"asr": "basic-asr", "persona": "basic-persona", "voice": "basic-voice", "animator": "basic-animator"},
        config=backend_config,
    )
    registry = Registry(file, weights_dir=tmp_path / "weights")
    registry.load(entry_points=False)
    return registry


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    url = f"sqlite+aiosqlite:///{tmp_path / 'memoria.db'}"
    await upgrade(url)
    return Settings(
        data_dir=tmp_path / "data", database_url=url, registry_file=tmp_path / "none.toml", loopback_only=True
    )


@pytest.fixture
async def client(settings: Settings, registry: Registry) -> AsyncIterator[Client]:
    app = create_app(settings, registry=registry)
    try:
        async with AsyncTestClient(app=app) as test_client:
            yield test_client
    finally:
        use_loopback(False)


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[Any]:
    engine = make_engine(settings.db_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


def face_jpeg() -> bytes:
    from skimage import data

    out = io.BytesIO()
    Image.fromarray(data.astronaut()[0:360, 76:436]).save(out, format="JPEG", quality=92)
    return out.getvalue()


@pytest.fixture
async def auth(client: Client) -> dict[str, str]:
    login = {"email": "tom@example.org", "password": "correct horse battery"}
    assert (await client.post("/auth/register", json={**login, "display_name": "Tom"})).status_code == 202
    response = await client.post("/auth/login", json=login)
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
async def avatar_id(client: Client, auth: dict[str, str]) -> int:
    body = {
        "name": "Ann",
        "relationship": "my mother",
        "user_name": "Tom",
        "consent": True,
        "consent_statement": "I have the right to use her likeness and voice.",
    }
    response = await client.post("/avatars", json=body, headers=auth)
    assert response.status_code == 201, response.text
    avatar = int(response.json()["id"])
    photo = await client.post(
        f"/avatars/{avatar}/photos", files={"file": ("ann.jpg", face_jpeg(), "image/jpeg")}, headers=auth
    )
    assert photo.status_code == 201, photo.text
    memory = await client.post(f"/avatars/{avatar}/memories", json={"text": "we baked bread on Sundays"}, headers=auth)
    assert memory.status_code == 201, memory.text
    return avatar


@pytest.fixture
def call(client: Client, auth: dict[str, str], avatar_id: int) -> Callable[..., Awaitable[tuple[LoopbackClient, int]]]:
    """Connect a loopback aiortc client through the real offer endpoint."""

    async def start(*, camera: Any = None, **options: Any) -> tuple[LoopbackClient, int]:
        peer = LoopbackClient(keep_media=True, camera=camera)
        ids: list[int] = []

        async def signal(sdp: str) -> str:
            response = await client.post(f"/avatars/{avatar_id}/calls", json={"sdp": sdp, **options}, headers=auth)
            assert response.status_code == 201, response.text
            ids.append(int(response.json()["call_id"]))
            return str(response.json()["sdp"])

        await peer.connect(signal)
        return peer, ids[0]

    return start


def tone(seconds: float, rate: int = 48000, f0: float = 160.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * f0 * t) * 32767).astype(np.int16)


@pytest.fixture
def speech() -> Callable[[float], np.ndarray]:
    return tone
