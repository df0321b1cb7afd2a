"""A real browser calls a real server: log in, add someone, call them, hear and see a reply, hang up, rate."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from PIL import Image

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL, PASSWORD = "tom@example.org", "correct horse battery"


def portrait(path: Path) -> Path:
    from skimage import data

    Image.fromarray(data.astronaut()[0:360, 76:436]).save(path, format="JPEG", quality=92)
    return path


async def test_a_browser_call_from_login_to_rating(server: str, page, workdir: Path) -> None:
    # log in (a new account) and add someone through the pages
    await page.goto(f"{server}/app/")
    await page.fill("#email", EMAIL)
    await page.fill("#password", PASSWORD)
    await page.click("#register-button")
    await page.wait_for("location.pathname === '/app/avatars.html'")
    await page.goto(f"{server}/app/create.html")
    await page.fill("#name", "Ann")
    await page.fill("#relationship", "my mother")
    await page.fill("#user-name", "Tom")
    await page.fill("#memories", "we baked bread on Sundays")
    await page.set_file("#photo", portrait(workdir / "ann.jpg"))
    await page.evaluate("document.querySelector('#consent').checked = true")
    invalid = await page.evaluate("[...document.querySelectorAll('#create :invalid')].map(e => e.id)")
    assert invalid == []
    await page.evaluate("document.querySelector('#create').requestSubmit()")
    # created: their page shows how the photo came out, with a Call button
    await page.wait_for(
        "location.pathname === '/app/person.html' && !document.querySelector('#call-link').hidden", timeout=40
    )

    # call: the avatar's video plays, a spoken question yields a reply caption and the avatar's audio
    await page.click("#call-link")
    await page.wait_for("location.pathname === '/app/call.html' && document.readyState === 'complete'")
    await page.click("#start")
    await page.wait_for("window.memoriaCall.id !== null && window.memoriaCall.state === 'listening'", timeout=30)
    stats = await page.wait_for("memoriaVideoStats().then(s => s && s.framesDecoded > 50 ? s : null)", timeout=30)
    assert (stats["frameWidth"], stats["frameHeight"]) == (512, 512)
    reply = await page.wait_for("window.memoriaCall.captions.find(c => c.role === 'avatar' && !c.final)", timeout=40)
    assert "Tom" in reply["text"]
    user = await page.evaluate("window.memoriaCall.captions.find(c => c.role === 'user')")
    assert user["text"] == "hello mum, are you there?"
    await page.wait_for("memoriaVideoStats().then(s => s.audioEnergy > 0.01)", timeout=20)
    shot = await page.screenshot(workdir / "call.png")
    artifacts = os.environ.get("MEMORIA_E2E_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        (Path(artifacts) / "call.png").write_bytes(shot.read_bytes())
    with Image.open(shot) as image:  # the avatar's face is on screen, not a black box
        assert image.convert("L").crop((200, 100, 700, 500)).getextrema()[1] > 100

    # hang up, rate, and the call row is closed with what was said
    await page.click("#end")
    await page.wait_for("window.memoriaCall.ended && !!document.querySelector('#stars button')")
    await page.click("#stars button[data-rating='5']")
    await page.wait_for("window.memoriaCall.rating === 5")
    async with httpx.AsyncClient(base_url=server) as api:
        token = (await api.post("/auth/login", json={"email": EMAIL, "password": PASSWORD})).json()["token"]
        calls = (await api.get("/calls", headers={"Authorization": f"Bearer {token}"})).json()
    assert len(calls) == 1
    call = calls[0]
    assert call["ended_at"] and call["end_reason"] == "hung up" and call["user_satisfaction"] == 5
    roles = [m["role"] for m in call["messages"]]
    assert roles[:2] == ["user", "avatar"] and call["messages"][0]["text"] == "hello mum, are you there?"
    assert call["total_exchanges"] >= 1


async def test_login_never_sends_the_browser_to_another_site(server: str, page) -> None:
    async with httpx.AsyncClient(base_url=server) as api:
        await api.post("/auth/register", json={"email": "eve@example.org", "password": PASSWORD})
    for evil in ("//evil.example/steal", "/\\evil.example", "https://evil.example/", "/app/../../evil"):
        await page.send("Network.clearBrowserCookies")
        await page.goto(f"{server}/app/?next={quote(evil, safe='')}")
        await page.fill("#email", "eve@example.org")
        await page.fill("#password", PASSWORD)
        await page.click("#login-button")
        await page.wait_for("location.pathname === '/app/avatars.html'")
        assert await page.evaluate("location.origin") == server
    # the session lives in an HttpOnly cookie: nothing a script could steal
    assert await page.evaluate("Object.keys(localStorage).length") == 0
    assert "memoria_session" not in await page.evaluate("document.cookie")
