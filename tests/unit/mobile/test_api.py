"""The API client: the routes it calls, and errors a person can act on (unreachable server,
expired session, the server's own message and hint). The server side is a small in-memory fake
behind httpx's transport, not a mock of the client."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mobile.api import ApiClient, normalise_base_url
from mobile.errors import ApiError, ServerUnreachable, SessionExpired
from mobile.models import AvatarDraft


class FakeServer:
    """Accepts one user; issues one token; knows avatars; can be told the token expired."""

    def __init__(self) -> None:
        self.token = "t0k3n"
        self.expired = False
        self.avatars: list[dict[str, object]] = []
        self.requests: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        path = request.url.path
        if path == "/auth/login":
            body = json.loads(request.content)
            if body == {"email": "me@example.org", "password": "correct horse"}:
                return httpx.Response(
                    200, json={"token": self.token, "token_type": "bearer", "expires_at": "2030-01-01T00:00:00"}
                )
            return httpx.Response(401, json={"error": "wrong email or password"})
        if request.headers.get("Authorization") != f"Bearer {self.token}" or self.expired:
            return httpx.Response(401, json={"error": "not authenticated"})
        if path == "/avatars" and request.method == "POST":
            body = json.loads(request.content)
            if body.get("consent") is not True:
                return httpx.Response(400, json={"error": "consent is required", "hint": "tick the box"})
            avatar = {
                "id": len(self.avatars) + 1,
                "name": body["name"],
                "relationship": body["relationship"],
                "primary_photo_id": None,
            }
            self.avatars.append(avatar)
            return httpx.Response(201, json=avatar)
        if path == "/avatars":
            return httpx.Response(200, json=self.avatars)
        if path == "/calls/ice":
            turn = {"urls": "turn:turn.example.org:3478", "username": "memoria", "credential": "s3cret"}
            return httpx.Response(200, json={"ice_servers": [turn], "loopback_only": False})
        if path.endswith("/photos") and request.method == "POST":
            assert b'name="file"; filename="face.jpg"' in request.content
            return httpx.Response(415, json={"error": "this is not a photo"})
        return httpx.Response(404, json={"error": "not found"})


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
async def api(server: FakeServer) -> ApiClient:
    return ApiClient("127.0.0.1:8000", transport=httpx.MockTransport(server))


async def test_log_in_then_create_and_list_avatars(api: ApiClient, server: FakeServer) -> None:
    assert await api.login("me@example.org", "correct horse") == "t0k3n"
    created = await api.create_avatar(
        AvatarDraft(name="Rose", relationship="my grandmother", consent=True, consent_statement="I may.")
    )
    assert created.id == 1 and created.name == "Rose"
    assert [a.name for a in await api.avatars()] == ["Rose"]
    assert ("POST", "/avatars") in server.requests


async def test_wrong_password_is_not_a_session_problem(api: ApiClient) -> None:
    with pytest.raises(ApiError, match="Wrong email or password.") as info:
        await api.login("me@example.org", "nope")
    assert info.value.status == 401


async def test_server_message_and_hint_reach_the_person(api: ApiClient) -> None:
    await api.login("me@example.org", "correct horse")
    with pytest.raises(ApiError, match=r"^Consent is required\. Tick the box\.$"):
        await api.create_avatar(AvatarDraft(name="Rose", relationship="my grandmother"))


async def test_developer_text_from_the_server_never_reaches_the_screen(api: ApiClient, server: FakeServer) -> None:
    from mobile.words import plain_message

    assert plain_message(404, "Rose has no photo yet", "upload one: POST /avatars/2/photos") == "Rose has no photo yet."
    assert plain_message(400, "invalid request: password: Expected `str` of length >= 8", "see /schema") == (
        "Please choose a password of at least 8 characters that is not easy to guess."
    )
    assert plain_message(400, "email: Expected `str` matching regex '^[^@]+@[^@]+$'", None).startswith(
        "Please check the email"
    )
    assert (
        plain_message(503, "Traceback (most recent call last)", None)
        == "Memoria is busy or restarting. Please try again in a moment."
    )


async def test_upload_sends_the_file_as_multipart(api: ApiClient, tmp_path: Path) -> None:
    await api.login("me@example.org", "correct horse")
    photo = tmp_path / "face.jpg"
    photo.write_text("not really a jpeg")
    with pytest.raises(ApiError, match="This is not a photo.") as info:
        await api.upload_photo(1, photo)
    assert info.value.status == 415


async def test_expired_token_says_log_in_again(api: ApiClient, server: FakeServer) -> None:
    await api.login("me@example.org", "correct horse")
    told: list[bool] = []
    api.on_session_expired = lambda: told.append(True)
    server.expired = True
    with pytest.raises(SessionExpired, match="log in again"):
        await api.avatars()
    assert told == [True] and api.token is None


async def test_unreachable_server_names_the_address() -> None:
    # a port nothing listens on, on loopback: the connection is refused at once
    api = ApiClient("http://127.0.0.1:9", timeout=2)
    with pytest.raises(ServerUnreachable, match="Cannot reach the server at http://127.0.0.1:9"):
        await api.login("me@example.org", "x")
    await api.aclose()


@pytest.mark.parametrize(
    ("typed", "url"),
    [("192.168.1.20:8000", "http://192.168.1.20:8000"), (" https://memoria.home/ ", "https://memoria.home")],
)
def test_addresses_people_type(typed: str, url: str) -> None:
    assert normalise_base_url(typed) == url


@pytest.mark.parametrize("typed", ["", "   ", "http://"])
def test_no_address_is_a_clear_error(typed: str) -> None:
    with pytest.raises(ServerUnreachable):
        normalise_base_url(typed)


async def test_the_servers_turn_relay_is_used_for_calls(api: ApiClient) -> None:
    from aiortc import RTCIceServer

    from mobile.rtc.call import CallClient
    from mobile.rtc.sinks import NullAudioOutput
    from mobile.rtc.tracks import MicTrack

    await api.login("me@example.org", "correct horse")
    assert await api.ice_servers() == [
        {"urls": "turn:turn.example.org:3478", "username": "memoria", "credential": "s3cret"}
    ]
    client = CallClient(
        api, 1, mic=MicTrack(None), camera=None, video_target=None,  # type: ignore[arg-type]
        audio_output=NullAudioOutput(), on_event=lambda e: None,
    )  # fmt: skip
    assert await client._ice_servers() == [
        RTCIceServer(urls="turn:turn.example.org:3478", username="memoria", credential="s3cret")
    ]
