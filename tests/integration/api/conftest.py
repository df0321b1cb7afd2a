"""A real app on a migrated database (SQLite, and MariaDB when MEMORIA_TEST_MYSQL_URL is set: see
tests/conftest.py), a real data folder, and helpers to log users in. `engine` comes from there too."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.backends import BackendInfo, BackendKind, VoiceBackend
from server.hookspecs import hookimpl
from server.registry import Registry, RegistryFile
from server.settings import Limits, Settings

from .helpers import AVATAR

Client = AsyncTestClient[Litestar]


class FakeVoice(VoiceBackend):
    """A registered voice backend, so an avatar can pick a backend that exists."""

    info = BackendInfo(name="fake-voice", kind=BackendKind.VOICE)

    def synthesize(self, text: str, *, voice: Any) -> Any:  # pragma: no cover - never called here
        raise NotImplementedError


class FakePlugin:
    @hookimpl
    def register_voice_backends(self) -> list[type[VoiceBackend]]:
        return [FakeVoice]


@pytest.fixture
def settings(tmp_path: Path, migrated_db_url: str) -> Settings:
    """`migrated_db_url` (tests/conftest.py) runs each test on SQLite and, when configured, MariaDB."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=migrated_db_url,
        weights_dir=tmp_path / "weights",
        registry_file=tmp_path / "no-registry.toml",
        limits=Limits(
            upload_bytes=25 * 1024 * 1024, image_pixels=40_000_000, voice_min_seconds=1.0, voice_max_seconds=30.0
        ),
    )


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    registry = Registry(RegistryFile(), weights_dir=tmp_path / "weights")
    registry.load(entry_points=False)
    registry.register_module(FakePlugin(), name="fake-plugin")
    return registry


@pytest.fixture
def app(settings: Settings, registry: Registry) -> Litestar:
    return create_app(settings, registry=registry)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


Login = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def login(client: Client) -> Login:
    """Register (if new) and log in a user; returns the Authorization header."""

    async def do(email: str = "ann@example.org", password: str = "correct horse") -> dict[str, str]:
        await client.post("/auth/register", json={"email": email, "password": password, "display_name": email})
        response = await client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    return do


MakeAvatar = Callable[[dict[str, str]], Awaitable[int]]


@pytest.fixture
def make_avatar(client: Client) -> MakeAvatar:
    async def do(headers: dict[str, str]) -> int:
        response = await client.post("/avatars", json=AVATAR, headers=headers)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    return do


@pytest.fixture
def data_dir(settings: Settings) -> Iterator[Path]:
    yield settings.data_dir
