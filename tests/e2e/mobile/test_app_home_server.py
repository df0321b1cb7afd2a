"""The phone app at home: it finds the server on the network (mDNS), trusts its certificate
authority on first use after checking it against the announced fingerprint, calls over https,
and refuses the server when its certificate later changes."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import HAVE_DISPLAY

pytest.importorskip("kivy", reason="the app's extra is not installed (pip install -e '.[app]')")
pytest.importorskip("zeroconf")
if not HAVE_DISPLAY:
    pytest.skip("needs an X display or Xvfb (apt-get install xvfb)", allow_module_level=True)

from kivy.core.window import Window  # noqa: E402

from mobile.main import MemoriaApp  # noqa: E402
from mobile.rtc.loopback import loopback_ice  # noqa: E402
from mobile.trust import fingerprint  # noqa: E402
from server.lan.addresses import lan_addresses  # noqa: E402

from .live_server import free_port  # noqa: E402
from .test_app_call import SAID, face_jpeg, find, media_files, press, until  # noqa: E402, F401

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not lan_addresses(), reason="no private LAN address to announce on"),
]
ROOT = Path(__file__).resolve().parents[3]
ACCOUNT = {"email": "home@example.org", "password": "correct horse battery"}


@pytest.fixture
def home_server(tmp_path: Path) -> Iterator[dict[str, object]]:
    """`memoria serve --lan` in a process of its own: https on the LAN address, announced."""
    http_port, https_port = free_port(), free_port()
    registry = tmp_path / "plugin_registry.toml"
    registry.write_text(
        '[plugins]\nmodules = ["plugins.basic"]\nentry_points = false\n'
        '[defaults]\nasr = "basic-asr"\npersona = "basic-persona"\nvoice = "basic-voice"\nanimator = "basic-animator"\n'
        f"[config.basic-asr]\nscript = {json.dumps([SAID])}\n"
    )
    config = tmp_path / "memoria.toml"
    config.write_text(f"loopback_only = true\n[lan]\nport = {https_port}\n")
    env = {
        **os.environ,
        "MEMORIA_DATA_DIR": str(tmp_path / "data"),
        "MEMORIA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'memoria.db'}",
        "MEMORIA_REGISTRY_FILE": str(registry),
        "MEMORIA_CONFIG": str(config),
    }
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", "from server.cli import main; main()", "serve", "--lan", "--port", str(http_port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        import socket
        import time

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", https_port)) == 0:
                    break
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            time.sleep(0.2)
        time.sleep(1.0)  # the announcement goes out once the listeners are up
        yield {"https_port": https_port, "ca": tmp_path / "data" / "lan" / "ca.crt", "ip": lan_addresses()[0]}
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


async def prepare_account(home: dict[str, object], photo: Path) -> None:
    context = ssl.create_default_context(cafile=str(home["ca"]))
    base = f"https://{home['ip']}:{home['https_port']}"
    async with httpx.AsyncClient(base_url=base, verify=context) as api:
        await api.post("/auth/register", json=ACCOUNT)
        token = (await api.post("/auth/login", json=ACCOUNT)).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        body = {"name": "Rose", "relationship": "my grandmother", "consent": True, "consent_statement": "I may."}
        avatar = (await api.post("/avatars", json=body, headers=auth)).json()
        await api.post(
            f"/avatars/{avatar['id']}/photos",
            files={"file": ("rose.jpg", photo.read_bytes(), "image/jpeg")},
            headers=auth,
        )


async def test_the_app_finds_the_home_server_pins_its_certificate_and_calls(
    home_server: dict[str, object], media_files: dict[str, Path]
) -> None:
    from mobile.ui.widgets import TouchButton

    await prepare_account(home_server, media_files["photo"])
    url = f"https://{home_server['ip']}:{home_server['https_port']}"
    ca_pem = Path(str(home_server["ca"])).read_text()
    Window.size = (412, 860)
    app = MemoriaApp()
    runner = asyncio.ensure_future(app.async_run(async_lib="asyncio"))
    try:
        with loopback_ice():
            await until("the app to start", lambda: app.root is not None and app.root.current == "login")
            screens = app.root
            login = screens.get_screen("login")
            press(login.ids.find)
            await until("the server found on the network", lambda: len(login.ids.found.children) >= 1, timeout=20)
            found = [b for b in login.ids.found.children if url.removeprefix("https://") in b.text]
            assert found, [b.text for b in login.ids.found.children]
            assert login.announced[url] == fingerprint(ca_pem)  # what the server announced
            press(found[0])
            assert login.ids.server.text == url
            login.ids.email.text, login.ids.password.text = ACCOUNT["email"], ACCOUNT["password"]
            press(find(login, TouchButton, "Log in"))
            await until("the gallery", lambda: screens.current == "gallery", timeout=30)
            assert fingerprint(app.prefs.pinned[url]) == fingerprint(ca_pem)  # trusted on first use, pinned
            gallery = screens.get_screen("gallery")
            await until("Rose", lambda: len(gallery.ids.grid.children) == 1)
            press(find(gallery.ids.grid.children[0], TouchButton, "Call"))
            call = screens.get_screen("call")
            await until("avatar frames", lambda: call.ids.remote.frames_shown > 10, timeout=60)
            await until("the avatar's reply", lambda: bool(call.avatar_caption), timeout=60)
            press(call.ids.end)
            await until("the rating screen", lambda: screens.current == "rating")

            # later the server shows a certificate from another authority: refused, in words
            from server.lan.certs import ensure_certificates

            other = ensure_certificates(Path(str(home_server["ca"])).parent.parent / "impostor", ["x"]).ca_file
            app.prefs.pinned[url] = other.read_text()
            screens.current = "login"
            login.ids.server.text = url
            login.ids.email.text, login.ids.password.text = ACCOUNT["email"], ACCOUNT["password"]
            press(find(login, TouchButton, "Log in"))
            await until("the refusal", lambda: login.ids.status.error, timeout=20)
            assert "certificate changed" in login.ids.status.text and screens.current == "login"
    finally:
        app.stop()
        await asyncio.wait_for(runner, 20)
        await app.shutdown()
