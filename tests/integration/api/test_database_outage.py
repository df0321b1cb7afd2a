"""MariaDB goes away behind a TCP proxy we cut, as a network or a restarting server would: REST calls
answer 503 with Retry-After and never a word of SQL, and the same client is served once it is back."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from server.app import create_app
from server.registry import Registry
from server.settings import Settings

from .helpers import AVATAR

pytestmark = pytest.mark.mysql
LEAKS = ("sql", "pymysql", "aiomysql", "operationalerror", "select ", "traceback", "2003", "2013")


class CuttableProxy:
    """Forwards 127.0.0.1:port to the database from its own thread and event loop (the test client
    runs the app on another loop); `cut()` drops every connection and refuses new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def start(self) -> None:
        self._run(self._start())

    def cut(self) -> None:
        self._run(self._cut())

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while chunk := await source.read(65536):
                    sink.write(chunk)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self.writers -= {writer, upstream_writer}


@pytest.fixture
def proxy(migrated_db_url: str, db_backend: str) -> Iterator[CuttableProxy]:
    if db_backend != "mysql":
        pytest.skip("the outage is of a database server")
    url = make_url(migrated_db_url)
    running = CuttableProxy(url.host or "127.0.0.1", url.port or 3306)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def settings(tmp_path: Path, migrated_db_url: str, proxy: CuttableProxy) -> Settings:
    through_proxy = make_url(migrated_db_url).set(host="127.0.0.1", port=proxy.port)
    return Settings(
        data_dir=tmp_path / "data",
        database_url=through_proxy.render_as_string(hide_password=False),
        weights_dir=tmp_path / "weights",
        registry_file=tmp_path / "no-registry.toml",
    )


async def test_an_outage_is_a_503_without_sql_and_the_server_recovers(
    settings: Settings, registry: Registry, proxy: CuttableProxy
) -> None:
    app: Litestar = create_app(settings, registry=registry)
    async with AsyncTestClient(app=app) as client:
        await client.post("/auth/register", json={"email": "ann@example.org", "password": "correct horse"})
        login = await client.post("/auth/login", json={"email": "ann@example.org", "password": "correct horse"})
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        assert (await client.get("/avatars", headers=headers)).status_code == 200

        proxy.cut()
        for method, path, body in (
            ("GET", "/avatars", None),
            ("POST", "/avatars", AVATAR),
            ("POST", "/auth/login", {"email": "ann@example.org", "password": "correct horse"}),
        ):
            response = await client.request(method, path, headers=headers, json=body)
            assert response.status_code == 503, (path, response.text)
            assert int(response.headers["retry-after"]) > 0
            assert set(response.json()) == {"error", "hint"}
            assert not [word for word in LEAKS if word in response.text.lower()], response.text

        proxy.start()  # the same port: the database is back
        for _ in range(20):  # the pool drops its dead connections as it meets them
            response = await client.get("/avatars", headers=headers)
            if response.status_code == 200:
                break
            assert response.status_code == 503
        assert response.status_code == 200
