"""Calling from outside the house goes through a TURN server: a real coturn on loopback, the
server configured with it (`ice_servers`, `ice_transport_policy = "relay"`), and a browser whose
media may only be relayed. The call completes and the route it took is the relay."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT, SCRIPT, free_port, wait_for_port
from .test_browser_call import portrait

TURNSERVER = shutil.which("turnserver")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(TURNSERVER is None, reason="needs coturn (apt-get install coturn)"),
]
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """coturn on 127.0.0.1 with one long-term user; yields its port and log file."""
    workdir = tmp_path_factory.mktemp("coturn")
    port = free_port()
    log = workdir / "turn.log"
    relay_from = 40000 + (port % 2000) * 10
    assert TURNSERVER is not None
    process = subprocess.Popen(
        [
            TURNSERVER, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
            f"--min-port={relay_from}", f"--max-port={relay_from + 9}", "--lt-cred-mech", "--user=memoria:turn-secret",
            "--realm=memoria.test", "--fingerprint", "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
            "--no-multicast-peers", f"--log-file={log}", "--simple-log", "--verbose",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = 50
        while deadline and not (log.exists() and "listener opened" in log.read_text(errors="replace")):
            if process.poll() is not None:
                raise RuntimeError(
                    f"turnserver exited: {log.read_text(errors='replace')[-2000:] if log.exists() else ''}"
                )
            import time

            time.sleep(0.1)
            deadline -= 1
        yield port, log
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def relayed_server(tmp_path_factory: pytest.TempPathFactory, coturn: tuple[int, Path]) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("relayed")
    registry = workdir / "plugin_registry.toml"
    registry.write_text(
        '[plugins]\nmodules = ["plugins.basic"]\nentry_points = false\n'
        '[defaults]\nasr = "basic-asr"\npersona = "basic-persona"\nvoice = "basic-voice"\nanimator = "basic-animator"\n'
        f"[config.basic-asr]\nscript = {json.dumps(SCRIPT)}\n"
    )
    config = workdir / "memoria.toml"
    config.write_text(
        f'loopback_only = true\nice_transport_policy = "relay"\nice_servers = ["turn:memoria:turn-secret@127.0.0.1:{coturn[0]}"]\n'
    )
    port = free_port()
    env = {
        **os.environ,
        "MEMORIA_DATA_DIR": str(workdir / "data"),
        "MEMORIA_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'memoria.db'}",
        "MEMORIA_REGISTRY_FILE": str(registry),
        "MEMORIA_CONFIG": str(config),
    }
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", "from server.cli import main; main()", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_port(port, 90, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


async def test_a_call_relayed_through_coturn(
    relayed_server: str, coturn: tuple[int, Path], page, workdir: Path
) -> None:
    server = relayed_server
    async with httpx.AsyncClient(base_url=server) as api:
        await api.post("/auth/register", json={"email": "far@example.org", "password": PASSWORD})
        token = (await api.post("/auth/login", json={"email": "far@example.org", "password": PASSWORD})).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        ice = (await api.get("/calls/ice", headers=auth)).json()
        body = {"name": "Ann", "relationship": "my mother", "consent": True, "consent_statement": "I may."}
        avatar_id = (await api.post("/avatars", json=body, headers=auth)).json()["id"]
        photo = portrait(workdir / "ann-turn.jpg").read_bytes()
        await api.post(f"/avatars/{avatar_id}/photos", files={"file": ("ann.jpg", photo, "image/jpeg")}, headers=auth)
    assert ice["ice_transport_policy"] == "relay"
    assert ice["ice_servers"] == [
        {"urls": f"turn:127.0.0.1:{coturn[0]}", "username": "memoria", "credential": "turn-secret"}
    ]

    await page.goto(f"{server}/app/")
    await page.fill("#email", "far@example.org")
    await page.fill("#password", PASSWORD)
    await page.click("#login-button")
    await page.wait_for("location.pathname === '/app/avatars.html'")
    await page.goto(f"{server}/app/call.html?avatar={avatar_id}")
    await page.wait_for("window.memoriaCall.name === 'Ann'")
    await page.click("#start")
    await page.wait_for("window.memoriaCall.state === 'listening'", timeout=40)
    assert await page.wait_for("memoriaRoute()", timeout=20) == "relay"
    reply = await page.wait_for("window.memoriaCall.captions.find(c => c.role === 'avatar' && c.final)", timeout=40)
    assert reply["text"]
    await page.wait_for("memoriaVideoStats().then(s => s && s.framesDecoded > 25 && s.audioEnergy > 0.01)", timeout=20)
    turn_log = coturn[1].read_text(errors="replace")
    assert "ALLOCATE" in turn_log and "memoria" in turn_log  # the browser's media went through coturn
    await page.click("#end")
    await page.wait_for("window.memoriaCall.ended")
