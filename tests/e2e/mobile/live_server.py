"""The real Memoria server on 127.0.0.1 for the app's end-to-end test: uvicorn in a thread,
SQLite in a temp folder, the basic backends, loopback-only WebRTC."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from server.app import create_app
from server.registry import Registry, RegistryFile
from server.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def basic_registry(weights_dir: Path, config: dict[str, dict[str, Any]]) -> Registry:
    file = RegistryFile(
        plugins={"modules": ["plugins.basic"], "entry_points": False},
        defaults={"asr": "basic-asr", "persona": "basic-persona", "voice": "basic-voice", "animator": "basic-animator"},
        config=config,
    )
    registry = Registry(file, weights_dir=weights_dir)
    registry.load(entry_points=False)
    return registry


@contextmanager
def running_server(settings: Settings, registry: Registry) -> Iterator[str]:
    """Serve until the block ends; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, registry=registry), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="memoria-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
