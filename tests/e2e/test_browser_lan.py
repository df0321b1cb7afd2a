"""A phone's browser at home, on loopback: `memoria serve --lan` with its own certificate
authority, a LAN-style host name mapped to 127.0.0.1 (so the browser judges the origin by its
name, not as localhost), and only that CA trusted (an NSS database in the browser's home; no
certificate-error or insecure-origin flags). Over http the page says the microphone needs the
https address and shows it; over https the phone gets the microphone and completes a call."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT, SCRIPT, browser, free_port, launch_chromium, user_speech_wav, wait_for_port
from .test_browser_call import portrait

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("certutil") is None, reason="needs NSS's certutil (apt-get install libnss3-tools)"),
]

HOST = "memoria-home.test"
PASSWORD = "correct horse battery"
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """`memoria serve --lan`: http on 127.0.0.1, https for the home network, basic backends."""
    workdir = tmp_path_factory.mktemp("lan")
    http_port, https_port = free_port(), free_port()
    registry = workdir / "plugin_registry.toml"
    registry.write_text(
        '[plugins]\nmodules = ["plugins.basic"]\nentry_points = false\n'
        '[defaults]\nasr = "basic-asr"\npersona = "basic-persona"\nvoice = "basic-voice"\nanimator = "basic-animator"\n'
        f"[config.basic-asr]\nscript = {json.dumps(SCRIPT)}\n"
    )
    config = workdir / "memoria.toml"
    config.write_text(f'loopback_only = true\n[lan]\nhost = "127.0.0.1"\nport = {https_port}\nnames = ["{HOST}"]\n')
    env = {
        **os.environ,
        "MEMORIA_DATA_DIR": str(workdir / "data"),
        "MEMORIA_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'memoria.db'}",
        "MEMORIA_REGISTRY_FILE": str(registry),
        "MEMORIA_CONFIG": str(config),
    }
    memoria = [sys.executable, "-c", "from server.cli import main; main()"]
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [*memoria, "serve", "--lan", "--port", str(http_port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(http_port, 90, process)
        wait_for_port(https_port, 30, process)
        yield {"http": http_port, "https": https_port, "ca": workdir / "data" / "lan" / "ca.crt", "workdir": workdir}
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def phone_browser(workdir: Path, ca: Path, *, trust: bool) -> tuple[subprocess.Popen[bytes], Path]:
    """Chromium with a phone's user agent, the LAN name mapped to loopback and, with `trust`, the
    CA in the NSS database Chromium reads on Linux ($HOME/.pki/nssdb)."""
    home = Path(tempfile.mkdtemp(prefix="phone-home-", dir=workdir))
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True)
    if trust:
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{nssdb}", "-n", "Memoria home CA", "-t", "C,,", "-i", str(ca)], check=True
        )
    profile = home / "profile"
    mic = user_speech_wav(workdir / "phone-mic.wav")
    extra = (f"--host-resolver-rules=MAP {HOST} 127.0.0.1", f"--user-agent={PHONE_UA}")
    return launch_chromium(mic, profile, extra, env={**os.environ, "HOME": str(home)}), profile


async def as_phone(page: object) -> None:
    await page.send("Emulation.setDeviceMetricsOverride", width=412, height=915, deviceScaleFactor=2.6, mobile=True)  # type: ignore[attr-defined]


async def test_over_http_the_page_says_to_use_the_https_address(home: dict[str, object]) -> None:
    process, profile = phone_browser(home["workdir"], home["ca"], trust=False)  # type: ignore[arg-type]
    async with browser(process, profile) as page:
        await as_phone(page)
        await page.goto(f"http://{HOST}:{home['http']}/app/")
        assert await page.evaluate("window.isSecureContext") is False
        banner = await page.wait_for(
            "document.querySelector('#insecure a') && document.querySelector('#insecure').innerText"
        )
        assert "microphone" in banner and f"https://{HOST}:{home['https']}/" in banner
        assert await page.evaluate("document.querySelector('#insecure a').href") == f"https://{HOST}:{home['https']}/"
        # without the CA trusted the https address is refused: the trust really comes from the CA
        await page.send("Page.navigate", url=f"https://{HOST}:{home['https']}/app/")
        refused = await page.wait_for("location.href.startsWith('chrome-error://') && location.href")
        assert refused.startswith("chrome-error://")


async def test_over_https_with_the_ca_trusted_a_phone_calls(home: dict[str, object]) -> None:
    https = f"https://{HOST}:{home['https']}"
    # an account and someone to call, over the same https the phone uses (verified against the CA)
    context = ssl.create_default_context(cafile=str(home["ca"]))
    transport = httpx.AsyncHTTPTransport(verify=context)
    async with httpx.AsyncClient(base_url=f"https://127.0.0.1:{home['https']}", transport=transport) as api:
        await api.post("/auth/register", json={"email": "pia@example.org", "password": PASSWORD})
        token = (await api.post("/auth/login", json={"email": "pia@example.org", "password": PASSWORD})).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        body = {
            "name": "Ann",
            "relationship": "my mother",
            "user_name": "Tom",
            "consent": True,
            "consent_statement": "I may.",
        }
        avatar_id = (await api.post("/avatars", json=body, headers=auth)).json()["id"]
        photo = portrait(Path(str(home["workdir"])) / "ann.jpg").read_bytes()
        created = await api.post(
            f"/avatars/{avatar_id}/photos", files={"file": ("ann.jpg", photo, "image/jpeg")}, headers=auth
        )
        assert created.status_code == 201, created.text
        lan = (await api.get("/lan", headers={"Host": f"{HOST}:{home['https']}"})).json()
    assert lan["enabled"] and lan["url"] == f"{https}/" and lan["ca_fingerprint"]

    process, profile = phone_browser(home["workdir"], home["ca"], trust=True)  # type: ignore[arg-type]
    async with browser(process, profile) as page:
        await as_phone(page)
        await page.goto(f"{https}/app/")
        assert await page.evaluate("window.isSecureContext") is True
        assert await page.evaluate("!document.querySelector('#insecure')")
        assert "Android" in await page.evaluate("navigator.userAgent")
        await page.fill("#email", "pia@example.org")
        await page.fill("#password", PASSWORD)
        await page.click("#login-button")
        await page.wait_for("location.pathname === '/app/avatars.html'")
        await page.goto(f"{https}/app/call.html?avatar={avatar_id}")
        await page.wait_for("window.memoriaCall.name === 'Ann'")
        await page.click("#start")
        await page.wait_for("window.memoriaCall.state === 'listening'", timeout=30)
        reply = await page.wait_for("window.memoriaCall.captions.find(c => c.role === 'avatar' && c.final)", timeout=40)
        assert reply["text"]
        assert await page.evaluate("window.memoriaCall.captions.find(c => c.role === 'user').text") == SCRIPT[0]
        await page.wait_for("memoriaVideoStats().then(s => s && s.framesDecoded > 25)", timeout=20)
        # the phone's page for setting up another phone shows the QR code of this address
        await page.goto(f"{https}/app/phone.html")
        shown = await page.wait_for("document.querySelector('#url').textContent")
        assert shown == f"{https}/"
        assert await page.wait_for(
            "document.querySelector('#qr').complete && document.querySelector('#qr').naturalWidth > 100"
        )
