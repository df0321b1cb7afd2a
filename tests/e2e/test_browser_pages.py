"""The web app's pages in real Chromium, as a person uses them: logging in after a wrong password,
adding someone with a photo that fails then one that works, finishing or removing a half-made
person, their page (details, photos, voice recorded in the page, memories), a call typed instead
of spoken, and its history with the recording playing in the page; on desktop and phone sizes,
with no developer text anywhere on screen."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from .conftest import user_speech_wav
from .test_browser_call import portrait

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery"
# What a person must never read: API paths and schema hints, type errors, regular expressions,
# stack traces, shell commands, raw reasons.
DEVELOPER_TEXT = (
    r"/schema|Expected `|POST /|GET /|/avatars/\d|memoria demo|Traceback|\[\^|\\\\[dws]|call ended \(|They:|720p"
)


async def no_developer_text(page: Any) -> None:
    text = await page.evaluate("document.body.innerText")
    found = await page.evaluate(
        f"(document.body.innerText.match(new RegExp({json.dumps(DEVELOPER_TEXT)})) || [null])[0]"
    )
    assert found is None, f"developer text {found!r} on {await page.evaluate('location.pathname')}: {text[:400]!r}"


async def shot(page: Any, workdir: Path, name: str) -> Path:
    path = await page.screenshot(workdir / f"{name}.png")
    artifacts = os.environ.get("MEMORIA_E2E_ARTIFACTS")
    if artifacts:
        save_artifact(Path(artifacts), name, path.read_bytes())
    return path


def save_artifact(folder: Path, name: str, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.png").write_bytes(data)


async def phone(page: Any) -> None:
    await page.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)


def landscape(path: Path) -> Path:
    """A photo with no face in it."""
    rng = np.random.default_rng(4)
    sky = np.linspace(200, 120, 360)[:, None, None] * np.array([0.6, 0.8, 1.0])
    image = np.clip(sky + rng.normal(0, 6, (360, 480, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(image).save(path, format="JPEG")
    return path


async def register(server: str, email: str) -> str:
    async with httpx.AsyncClient(base_url=server) as api:
        await api.post("/auth/register", json={"email": email, "password": PASSWORD})
        return str((await api.post("/auth/login", json={"email": email, "password": PASSWORD})).json()["token"])


async def log_in(page: Any, server: str, email: str) -> None:
    await page.goto(f"{server}/app/")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#login-button")
    await page.wait_for("location.pathname === '/app/avatars.html'")


async def api_get(server: str, token: str, path: str) -> Any:
    async with httpx.AsyncClient(base_url=server) as api:
        return (await api.get(path, headers={"Authorization": f"Bearer {token}"})).json()


async def test_a_wrong_password_says_so_and_the_next_login_lands_on_the_list(server: str, page: Any) -> None:
    await register(server, "wren@example.org")
    # arriving from the login page itself must not send the browser back to it
    await page.goto(f"{server}/app/?next=%2Fapp%2F")
    await page.fill("#email", "wren@example.org")
    await page.fill("#password", "not the password")
    await page.click("#login-button")
    error = await page.wait_for("document.querySelector('#error').textContent")
    assert error == "That email and password do not match. Please try again."
    assert await page.evaluate("document.querySelector('#email').value") == "wren@example.org"
    await no_developer_text(page)
    await page.fill("#password", PASSWORD)
    await page.click("#login-button")
    await page.wait_for("location.pathname === '/app/avatars.html'")
    empty = await page.wait_for(
        "document.querySelector('#avatars .empty') && document.querySelector('#avatars').innerText"
    )
    assert "Add someone you remember" in empty
    await no_developer_text(page)
    # a weak password when creating an account is said in words
    await page.send("Network.clearBrowserCookies")
    await page.goto(f"{server}/app/")
    await page.fill("#email", "new@example.org")
    await page.fill("#password", "password")
    await page.click("#register-button")
    weak = await page.wait_for("document.querySelector('#error').textContent")
    assert "password" in weak.lower() and "`" not in weak
    await no_developer_text(page)


async def test_adding_someone_with_a_failed_photo_leaves_nothing_then_works(
    server: str, page: Any, workdir: Path
) -> None:
    token = await register(server, "ivy@example.org")
    await log_in(page, server, "ivy@example.org")
    await page.goto(f"{server}/app/create.html")
    await page.fill("#name", "Margaret")
    await page.fill("#relationship", "my aunt")
    await page.fill("#style", "always said 'Oh, love'")
    await page.fill("#memories", "we went to the seaside at Whitby")
    await page.set_file("#photo", landscape(workdir / "beach.jpg"))
    await page.evaluate("document.querySelector('#consent').checked = true")
    await page.evaluate("document.querySelector('#create').requestSubmit()")
    error = await page.wait_for("document.querySelector('#error').textContent", timeout=40)
    assert error.startswith("Nothing was saved.") and "face" in error
    await no_developer_text(page)
    assert await api_get(server, token, "/avatars") == []  # no half-made Margaret left behind
    assert await page.evaluate("document.querySelector('#name').value") == "Margaret"  # the form keeps it

    await page.set_file("#photo", portrait(workdir / "margaret.jpg"))
    await page.evaluate("document.querySelector('#create').requestSubmit()")
    await page.wait_for("location.pathname === '/app/person.html'", timeout=40)
    verdict = await page.wait_for(
        "document.querySelector('#photos .verdict') && document.querySelector('#photos').innerText"
    )
    assert "photo" in verdict and "Main photo" in verdict
    assert "ready to call" in await page.evaluate("document.querySelector('#welcome').textContent")
    await no_developer_text(page)
    avatars = await api_get(server, token, "/avatars")
    assert [a["name"] for a in avatars] == ["Margaret"]


async def test_a_half_made_person_can_be_finished_or_removed(server: str, page: Any, workdir: Path) -> None:
    token = await register(server, "ash@example.org")
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {token}"}) as api:
        for name in ("Walter", "Edith"):
            body = {"name": name, "relationship": "my grandfather", "consent": True, "consent_statement": "I may."}
            assert (await api.post("/avatars", json=body)).status_code == 201
    await log_in(page, server, "ash@example.org")
    await page.wait_for("document.querySelectorAll('#avatars li.unfinished').length === 2")
    text = await page.evaluate("document.querySelector('#avatars').innerText")
    assert "Walter is not finished" in text and not await page.evaluate("!!document.querySelector('.call-link')")
    await no_developer_text(page)
    # remove one, asked once more in words
    await page.evaluate(
        "[...document.querySelectorAll('#avatars li')].find(li => li.innerText.includes('Edith'))"
        ".querySelector('.remove').click()"
    )
    question = await page.wait_for("document.querySelector('.confirm') && document.querySelector('.confirm').innerText")
    assert "Remove Edith?" in question and "deleted for good" in question
    await page.click(".confirm .yes")
    await page.wait_for("document.querySelectorAll('#avatars li').length === 1")
    assert [a["name"] for a in await api_get(server, token, "/avatars")] == ["Walter"]
    # finish the other with a photo on their page
    await page.click(".finish-link")
    await page.wait_for(
        "location.pathname === '/app/person.html' && document.querySelector('#title').textContent === 'Walter'"
    )
    assert "Add a photo" in await page.evaluate("document.querySelector('#welcome').textContent")
    await page.set_file("#photo-file", portrait(workdir / "walter.jpg"))
    await page.wait_for("!document.querySelector('#call-link').hidden", timeout=40)
    await page.goto(f"{server}/app/avatars.html")
    await page.wait_for("!!document.querySelector('.call-link')")


async def test_their_page_edits_details_voice_and_memories_and_removes_them(
    server: str, page: Any, workdir: Path
) -> None:
    token = await register(server, "oak@example.org")
    await log_in(page, server, "oak@example.org")
    await page.goto(f"{server}/app/create.html")
    await page.fill("#name", "Ann")
    await page.fill("#relationship", "my mother")
    await page.set_file("#photo", portrait(workdir / "ann.jpg"))
    await page.evaluate("document.querySelector('#consent').checked = true")
    await page.evaluate("document.querySelector('#create').requestSubmit()")
    await page.wait_for(
        "location.pathname === '/app/person.html' && !!document.querySelector('#photos li')", timeout=40
    )
    avatar_id = (await api_get(server, token, "/avatars"))[0]["id"]

    await page.fill("#user-name", "Tom")
    await page.evaluate("document.querySelector('#details').requestSubmit()")
    await page.wait_for("document.querySelector('#details-saved').textContent === 'Saved.'")
    assert (await api_get(server, token, f"/avatars/{avatar_id}"))["user_name"] == "Tom"

    # a memory added, changed and removed
    await page.fill("#memory", "we baked bread on Sundays")
    await page.evaluate("document.querySelector('#memory-form').requestSubmit()")
    await page.wait_for("document.querySelectorAll('#memories li[data-memory]').length === 1")
    await page.evaluate("document.querySelector('#memories textarea').value = 'we baked soda bread on Sundays'")
    await page.click(".save-memory")
    await page.wait_for("document.querySelector('.save-memory').textContent === 'Saved'")
    assert [m["text"] for m in await api_get(server, token, f"/avatars/{avatar_id}/memories")] == [
        "we baked soda bread on Sundays"
    ]

    # the voice: uploaded, and recorded in the page with the (fake) microphone
    await page.set_file("#voice-file", user_speech_wav(workdir / "ann-voice.wav", lead_s=0.2, tail_s=2.0))
    await page.wait_for("document.querySelectorAll('#samples li').length === 1", timeout=30)
    await page.click("#record-voice")
    await page.wait_for("document.querySelector('#record-voice').getAttribute('aria-pressed') === 'true'")
    level = await page.wait_for(
        "Number(document.querySelector('#level').value) > 0.01 && document.querySelector('#level').value", timeout=15
    )
    assert float(level) > 0.01  # the meter moves with the voice
    await page.wait_for("parseInt(document.querySelector('#record-time').textContent) >= 5", timeout=15)
    await page.click("#record-voice")
    await page.wait_for("document.querySelectorAll('#samples li').length === 2", timeout=30)
    samples = await api_get(server, token, f"/avatars/{avatar_id}/voice-samples")
    assert samples[-1]["original_name"].endswith(".webm") and samples[-1]["duration_s"] >= 4
    # how the voice sounds now: a sentence spoken by the voice a call would use
    await page.click("#hear-voice")
    heard = await page.wait_for(
        "(() => { const a = document.querySelector('#voice-preview');"
        " return !a.hidden && a.readyState >= 1 && a.duration > 0.5 ? a.duration : null; })()",
        timeout=30,
    )
    assert heard > 0.5
    state = await page.evaluate("document.querySelector('#voice-state').textContent")
    assert "Ann" in state and "2 recordings" in state
    await no_developer_text(page)

    # removed, after one more question
    await page.click("#remove")
    await page.wait_for("!!document.querySelector('#remove-panel .confirm')")
    await page.click("#remove-panel .yes")
    await page.wait_for("location.pathname === '/app/avatars.html'")
    assert await api_get(server, token, "/avatars") == []


async def test_a_typed_call_then_its_history_with_the_recording_in_the_page(
    server: str, page: Any, workdir: Path
) -> None:
    token = await register(server, "elm@example.org")
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {token}"}) as api:
        body = {
            "name": "Rose",
            "relationship": "my grandmother",
            "user_name": "Tom",
            "consent": True,
            "consent_statement": "I may.",
        }
        avatar_id = (await api.post("/avatars", json=body)).json()["id"]
        photo = portrait(workdir / "rose.jpg").read_bytes()
        assert (
            await api.post(f"/avatars/{avatar_id}/photos", files={"file": ("rose.jpg", photo, "image/jpeg")})
        ).status_code == 201
    await log_in(page, server, "elm@example.org")
    await page.goto(f"{server}/app/call.html?avatar={avatar_id}")
    await page.wait_for("window.memoriaCall.name === 'Rose'")
    await page.evaluate(
        "window.stateLog = [];"
        "new MutationObserver(() => window.stateLog.push(document.querySelector('#state').textContent))"
        ".observe(document.querySelector('#state'), {childList: true, characterData: true, subtree: true})"
    )
    await page.click("#start")
    await page.wait_for(
        "window.memoriaCall.state === 'listening' && !document.querySelector('#typed').disabled", timeout=30
    )
    await page.click("#record")
    await page.wait_for("!document.querySelector('#rec').hidden")
    await page.fill("#typed", "Do you remember the bread?")
    await page.evaluate("document.querySelector('#type-form').requestSubmit()")
    reply = await page.wait_for("window.memoriaCall.captions.find(c => c.role === 'avatar' && c.final)", timeout=40)
    assert reply["text"]
    assert (
        await page.evaluate("window.memoriaCall.captions.find(c => c.role === 'user').text")
        == "Do you remember the bread?"
    )
    log = await page.evaluate("window.stateLog")
    assert "Connecting…" in log and "Rose is listening" in log and "Rose is speaking" in log
    transcript = await page.evaluate("document.querySelector('#transcript').innerText")
    assert "You: Do you remember the bread?" in transcript and "Rose: " in transcript
    await page.wait_for("memoriaVideoStats().then(s => s && s.framesDecoded > 50)", timeout=20)
    await page.click("#end")
    await page.wait_for("window.memoriaCall.ended && !!document.querySelector('#stars button')")
    # the last frame stays and fades; Record is off again; the chosen star is lit
    assert await page.evaluate(
        "!document.querySelector('#last-frame').hidden"
        " && document.querySelector('#last-frame').classList.contains('fading')"
    )
    assert await page.evaluate("document.querySelector('#record').getAttribute('aria-pressed')") == "false"
    assert await page.evaluate("document.querySelector('#rec').hidden")
    assert await page.evaluate("document.querySelector('#ended-words').textContent") == "You ended the call."
    await page.click("#stars button[data-rating='4']")
    await page.wait_for("window.memoriaCall.rating === 4")
    lit = await page.evaluate("[...document.querySelectorAll('#stars .star')].map(b => b.classList.contains('on'))")
    assert lit == [True, True, True, True, False]
    await no_developer_text(page)
    await shot(page, workdir, "call-ended")

    # history: the transcript names her, the recording plays in the page, the rating shows
    await page.goto(f"{server}/app/history.html?avatar={avatar_id}")
    await page.wait_for("document.querySelectorAll('.call-entry').length === 1", timeout=20)
    await page.click(".call-entry summary")  # "What was said" opens the transcript
    text = await page.wait_for("document.querySelector('.transcript').innerText")
    assert "You: Do you remember the bread?" in text and "Rose: " in text and "They:" not in text
    assert (
        await page.evaluate(
            "[...document.querySelectorAll('.call-entry .star')].filter(b => b.classList.contains('on')).length"
        )
        == 4
    )
    played = await page.wait_for(
        "(() => { const v = document.querySelector('.call-entry video'); if (!v) return null;"
        " v.muted = true; v.play().catch(() => {});"
        " return v.readyState >= 2 && v.duration > 1 && v.videoWidth ? [v.duration, v.videoWidth] : null; })()",
        timeout=30,
    )
    assert played[0] > 1 and played[1] == 512
    await no_developer_text(page)
    await shot(page, workdir, "history")


async def test_on_a_phone_the_captions_sit_under_the_picture(server: str, page: Any, workdir: Path) -> None:
    token = await register(server, "fir@example.org")
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {token}"}) as api:
        body = {"name": "Rose", "relationship": "my grandmother", "consent": True, "consent_statement": "I may."}
        avatar_id = (await api.post("/avatars", json=body)).json()["id"]
        photo = portrait(workdir / "rose.jpg").read_bytes()
        await api.post(f"/avatars/{avatar_id}/photos", files={"file": ("rose.jpg", photo, "image/jpeg")})
    await phone(page)
    await log_in(page, server, "fir@example.org")
    await shot(page, workdir, "phone-list")
    await no_developer_text(page)
    await page.goto(f"{server}/app/person.html?avatar={avatar_id}")
    await page.wait_for("!!document.querySelector('#photos li')")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # nothing off the side
    await shot(page, workdir, "phone-person")
    await page.goto(f"{server}/app/call.html?avatar={avatar_id}")
    await page.wait_for("window.memoriaCall.name === 'Rose'")
    assert await page.evaluate("!document.querySelector('#stage').contains(document.querySelector('#captions'))")
    await page.click("#start")
    await page.wait_for("window.memoriaCall.state === 'listening'", timeout=30)
    await page.fill("#typed", "hello")
    await page.evaluate("document.querySelector('#type-form').requestSubmit()")
    await page.wait_for("window.memoriaCall.captions.some(c => c.role === 'avatar')", timeout=40)
    stage = await page.evaluate("JSON.stringify(document.querySelector('#stage').getBoundingClientRect())")
    captions = await page.evaluate("JSON.stringify(document.querySelector('#captions').getBoundingClientRect())")
    assert json.loads(captions)["top"] >= json.loads(stage)["bottom"] - 1
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    await shot(page, workdir, "phone-call")
    await page.click("#end")
    await page.wait_for("window.memoriaCall.ended")
