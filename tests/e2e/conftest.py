"""A real server (uvicorn subprocess, SQLite, basic backends, loopback WebRTC) and headless Chromium
driven over the Chrome DevTools Protocol with `websockets` (no Node, no Playwright download)."""

from __future__ import annotations

import asyncio
import contextlib
import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ["hello mum, are you there?"]
BROWSER_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-gpu",
    "--no-first-run",
    "--mute-audio",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="memoria-e2e-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def user_speech_wav(
    path: Path, *, lead_s: float = 3.0, speech_s: float = 1.6, tail_s: float = 8.0, rate: int = 48000
) -> Path:
    """Silence, a voiced syllable train (what the user says), silence: Chromium's fake mic plays it once."""
    t = np.arange(int(speech_s * rate)) / rate
    f0 = 140 + 15 * np.sin(2 * np.pi * 2.0 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    syllables = 0.6 + 0.4 * np.sin(2 * np.pi * 4.0 * t)
    speech = 0.35 * voiced * syllables / 1.5
    audio = np.concatenate([np.zeros(int(lead_s * rate)), speech, np.zeros(int(tail_s * rate))])
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[str]:
    """`uvicorn` on create_app with loopback-only WebRTC and the basic backends; yields its base URL."""
    from server.db.engine import upgrade

    db = workdir / "memoria.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{db}"))
    registry = workdir / "plugin_registry.toml"
    registry.write_text(
        '[plugins]\nmodules = ["plugins.basic"]\nentry_points = false\n'
        '[defaults]\nasr = "basic-asr"\npersona = "basic-persona"\nvoice = "basic-voice"\nanimator = "basic-animator"\n'
        f"[config.basic-asr]\nscript = {json.dumps(SCRIPT)}\n"
    )
    port = free_port()
    env = {
        **os.environ,
        "MEMORIA_DATA_DIR": str(workdir / "data"),
        "MEMORIA_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "MEMORIA_REGISTRY_FILE": str(registry),
        "MEMORIA_LOOPBACK_ONLY": "true",
        "MEMORIA_CONFIG": str(workdir / "none.toml"),
    }
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "server.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, 60, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class Page:
    """The little of CDP the tests need: navigate, evaluate, wait, click, upload, screenshot."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []  # console messages, exceptions... for failure reports

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        await self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self.ws.recv())
            if "method" in message:
                self.events.append(message)
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete' && location.href === " + json.dumps(url))

    async def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = await self.evaluate(expression)
            except RuntimeError:
                value = None
            if value:
                return value
            await asyncio.sleep(0.2)
        shown = await self.evaluate("location.pathname + ': ' + document.body.innerText.slice(0, 300)")
        logged = [
            e["params"] for e in self.events if e["method"] in ("Runtime.consoleAPICalled", "Runtime.exceptionThrown")
        ][-5:]
        raise TimeoutError(f"still false after {timeout} s: {expression}; page says: {shown!r}; console: {logged}")

    async def fill(self, selector: str, value: str) -> None:
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)}")

    async def click(self, selector: str) -> None:
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    async def set_file(self, selector: str, path: Path) -> None:
        document = await self.send("DOM.getDocument")
        node = await self.send("DOM.querySelector", nodeId=document["root"]["nodeId"], selector=selector)
        await self.send("DOM.setFileInputFiles", files=[str(path)], nodeId=node["nodeId"])

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@pytest.fixture
async def page(workdir: Path) -> AsyncIterator[Page]:
    profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=workdir))
    mic = user_speech_wav(workdir / "user.wav")
    async with browser(launch_chromium(mic, profile), profile) as tab:
        yield tab


@contextlib.asynccontextmanager
async def browser(process: subprocess.Popen[bytes], profile: Path) -> AsyncIterator[Page]:
    """The first tab of a Chromium started with `--user-data-dir=profile`, driven over CDP."""
    import websockets

    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets: list[dict[str, Any]] = []
        while not any(t.get("type") == "page" for t in targets):
            targets = json.loads(await asyncio.to_thread(_http_get, f"http://127.0.0.1:{port}/json"))
            await asyncio.sleep(0.1)
        target = next(t for t in targets if t.get("type") == "page")
        async with websockets.connect(target["webSocketDebuggerUrl"], max_size=64 * 2**20) as ws:
            tab = Page(ws)
            await tab.send("Page.enable")
            await tab.send("Runtime.enable")
            yield tab
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def launch_chromium(
    mic: Path, profile: Path, extra: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Headless Chromium whose fake microphone plays `mic` once, with DevTools on 127.0.0.1."""
    assert CHROMIUM is not None
    return subprocess.Popen(
        [
            CHROMIUM,
            *BROWSER_FLAGS,
            *extra,
            f"--use-file-for-fake-audio-capture={mic}%noloop",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            "--window-size=1200,1000",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )


def _http_get(url: str) -> str:
    from urllib.request import urlopen

    with urlopen(url, timeout=5) as response:
        return str(response.read().decode())
