"""Every route of the app, walked as a second user against the first user's avatar and data:
each must answer 404 (or 403) and change nothing. Routes are enumerated from `app.routes`, so a
new route is covered the day it is added; one this test cannot classify fails it, on purpose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

from . import samples
from .conftest import Client, Login
from .helpers import AVATAR, SECRET_WORDS, files_under, populate, table_rows

# Writes that act for the logged-in user without an id in the path; each is checked below for Bob.
ACCOUNT_ROUTES = {
    ("POST", "/auth/logout"),
    ("DELETE", "/auth/session"),
    ("POST", "/auth/logout-everywhere"),
    ("POST", "/avatars"),
}
ANONYMOUS_WRITES = {("POST", "/auth/register"), ("POST", "/auth/login"), ("POST", "/auth/session")}
DENIED = {403, 404}


def _json_body(type_name: str) -> dict[str, Any]:
    """A body that would succeed for the owner, so only the ownership check can refuse it."""
    bodies: dict[str, dict[str, Any]] = {
        "AvatarUpdate": {"name": "taken over"},
        "PersonalityWrite": {"personality": "taken over"},
        "MemoryWrite": {"text": "taken over"},
        "AvatarCreate": AVATAR,
        "OfferRequest": {"sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"},
        "RatingRequest": {"rating": 5},
    }
    assert type_name in bodies, f"add a valid {type_name} body to test_ownership._json_body"
    return bodies[type_name]


def _request_kwargs(route: HTTPRoute, method: str, path: str) -> dict[str, Any]:
    handler = next(h for h in route.route_handlers if method in h.http_methods)
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return {}
    media_type = getattr(data.kwarg_definition, "media_type", None)
    if media_type is not None and str(getattr(media_type, "value", media_type)) == "multipart/form-data":
        content = samples.face_jpeg() if "photo" in path else samples.wav_bytes(samples.vowel(1.5))
        return {"files": {"file": ("upload", content, "application/octet-stream")}}
    return {"json": _json_body(data.annotation.__name__)}


def _http_endpoints(app: Litestar) -> list[tuple[HTTPRoute, str]]:
    endpoints = []
    for route in app.routes:
        assert isinstance(route, HTTPRoute), f"{route.path}: add an ownership check for {type(route).__name__} routes"
        for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
            endpoints.append((route, method))
    return endpoints


def _uses_login(route: HTTPRoute, method: str) -> bool:
    handler = next(h for h in route.route_handlers if method in h.http_methods)
    return "current_user" in handler.parsed_fn_signature.parameters


def _id_names(route: HTTPRoute) -> dict[str, str]:
    """Path parameter -> the owned id it takes (photos and voice samples share the name `item_id`)."""
    item = "photo_id" if "/photos/" in route.path_format else "sample_id"
    return {name: item if name == "item_id" else name for name in route.path_parameters}


def _path(route: HTTPRoute, values: dict[str, int]) -> str:
    return route.path_format.format(**{name: values[key] for name, key in _id_names(route).items()})


def _owned_params(route: HTTPRoute, owned: dict[str, int]) -> bool:
    return bool(set(_id_names(route).values()) & set(owned))


async def test_second_user_can_touch_nothing_of_the_first(
    app: Litestar, client: Client, engine: Any, login: Login, data_dir: Path
) -> None:
    ann = await login("ann@example.org")
    owned = await populate(client, engine, data_dir, ann)
    bob = await login("bob@example.org")
    bobs_avatar = (await client.post("/avatars", json=AVATAR, headers=bob)).json()["id"]
    endpoints = _http_endpoints(app)

    # Every route is one of: touches owned ids (walked below); a read without an owned id, for
    # anyone or for the logged-in user (documentation, pages, lists, settings: checked not to show
    # Ann's data to Bob); or a write without an id, listed by hand in ACCOUNT_ROUTES/ANONYMOUS_WRITES.
    reads: list[HTTPRoute] = []
    unclassified = []
    for route, method in endpoints:
        key = (method, route.path_format)
        if _owned_params(route, owned) and set(_id_names(route).values()) <= set(owned):
            continue
        if route.path_parameters and any(p.type is int for p in route.path_parameters.values()):
            unclassified.append(f"{method} {route.path_format} (give test_ownership one of Ann's ids for it)")
        elif method == "GET":
            reads.append(route)
        elif key not in ACCOUNT_ROUTES and key not in ANONYMOUS_WRITES:
            unclassified.append(f"{method} {route.path_format}")
    assert not unclassified, f"routes test_ownership cannot check yet: {unclassified}"
    secrets = ("She grew tomatoes.", SECRET_WORDS, "ann@example.org", ann["Authorization"][7:])
    for route in reads:
        path = route.path_format.format(**{name: "x" for name in route.path_parameters})
        response = await client.get(path, headers=bob)
        leaked = [secret for secret in secrets if secret in response.text]
        assert not leaked, f"GET {path} shows Ann's data to Bob: {leaked}"

    # Account routes only ever see Bob's own data.
    me = await client.get("/auth/me", headers=bob)
    assert me.json()["email"] == "bob@example.org"
    listed = await client.get("/avatars", headers=bob)
    assert [a["id"] for a in listed.json()] == [bobs_avatar]
    assert len((await client.get("/calls", headers=ann)).json()) == 1  # Ann's call exists; Bob must not see it
    calls = await client.get("/calls", headers=bob)
    assert calls.status_code == 200 and calls.json() == []
    filtered = await client.get("/calls", params={"avatar_id": owned["avatar_id"]}, headers=bob)
    assert filtered.status_code in DENIED or filtered.json() == []

    before_rows = await table_rows(engine, skip=("api_tokens",))
    before_files = files_under(data_dir)
    walked = []
    for route, method in endpoints:
        if not _owned_params(route, owned):
            continue
        # Ann's ids everywhere, and Ann's child ids under Bob's own avatar (a check by avatar alone is not enough).
        variants = [dict(owned)]
        if set(route.path_parameters) - {"avatar_id"}:
            variants.append({**owned, "avatar_id": bobs_avatar})
        for values in variants:
            path = _path(route, values)
            response = await client.request(method, path, headers=bob, **_request_kwargs(route, method, path))
            assert response.status_code in DENIED, (
                f"{method} {path} as another user gave {response.status_code}: {response.text}"
            )
            missing = route.path_format.format(**{name: 10**6 + i for i, name in enumerate(route.path_parameters)})
            unknown = await client.request(method, missing, headers=bob, **_request_kwargs(route, method, missing))
            assert unknown.status_code == response.status_code, (
                f"{method} {path}: someone else's data must look like none"
            )
            walked.append(f"{method} {route.path_format}")
    assert await table_rows(engine, skip=("api_tokens",)) == before_rows
    assert files_under(data_dir) == before_files

    # The walk really covered the avatar's routes, and Ann still has everything.
    assert {
        "DELETE /avatars/{avatar_id}",
        "POST /avatars/{avatar_id}/photos",
        "GET /avatars/{avatar_id}/voice-samples/{item_id}/file",
    } <= set(walked)
    assert (await client.get(f"/avatars/{owned['avatar_id']}/memories", headers=ann)).json()[0][
        "text"
    ] == "She grew tomatoes."

    # Bob logging out ends Bob's session only.
    assert (await client.post("/auth/logout", headers=bob)).status_code == 204
    assert (await client.get("/auth/me", headers=bob)).status_code == 401
    assert (await client.get("/auth/me", headers=ann)).status_code == 200


async def test_every_owned_route_needs_a_login(
    app: Litestar, client: Client, engine: Any, login: Login, data_dir: Path
) -> None:
    owned = await populate(client, engine, data_dir, await login())
    before = await table_rows(engine)
    for route, method in _http_endpoints(app):
        if (method, route.path_format) in ANONYMOUS_WRITES or not (
            _owned_params(route, owned) or _uses_login(route, method)
        ):
            continue
        path = _path(route, owned)
        kwargs = _request_kwargs(route, method, path)
        response = await client.request(method, path, **kwargs)
        assert response.status_code == 401, f"{method} {path} without a token gave {response.status_code}"
    assert await table_rows(engine) == before
