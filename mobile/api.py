"""The one place the app talks HTTP to the server (httpx, async, bearer token).

Every failure becomes an AppError a person can act on: the server is unreachable, the session
expired (log in again), or the server's own message and hint.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import msgspec

from mobile.errors import ApiError, ServerUnreachable, SessionExpired, UntrustedCertificate
from mobile.models import (
    Avatar,
    AvatarDraft,
    CallAnswer,
    CallRecord,
    Memory,
    Personality,
    Photo,
    User,
    VoiceSample,
)
from mobile.words import plain_message

T = TypeVar("T")
API = ""  # the server mounts its routes at the root (see server/domain/routes.py, server/calls/routes.py)

# Media types we send for uploads, by file suffix; the server sniffs the real format anyway.
_MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
    ".webm": "audio/webm",
}

log = logging.getLogger(__name__)


def normalise_base_url(text: str) -> str:
    """Accept what people type ("192.168.1.5:8000", "memoria.home/") and make it a base URL."""
    url = text.strip()
    if not url:
        raise ServerUnreachable("Enter the address of your Memoria server.")
    if "://" not in url:
        url = "http://" + url
    try:
        host = httpx.URL(url).host
    except httpx.InvalidURL:
        host = ""
    if not host:
        raise ServerUnreachable(f"'{text.strip()}' is not a server address.")
    return url.rstrip("/")


class ApiClient:
    """Typed calls to the REST API; one instance per server address, token set after log in."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
        on_session_expired: Callable[[], None] | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self.token = token
        self.on_session_expired = on_session_expired
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport, verify=verify)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- auth -------------------------------------------------------------------------------
    async def register(self, email: str, password: str, display_name: str = "") -> None:
        """Create the account; the server answers the same if it already exists, so log in next."""
        body = {"email": email, "password": password, "display_name": display_name}
        await self._json("POST", f"{API}/auth/register", dict, json=body, auth=False)

    async def login(self, email: str, password: str) -> str:
        """Log in and keep the bearer token; returns it so the app can remember it."""
        data = await self._json(
            "POST", f"{API}/auth/login", dict, json={"email": email, "password": password}, auth=False
        )
        token = data.get("token") or data.get("access_token")
        if not isinstance(token, str) or not token:
            raise ApiError("The server did not return a login token.", status=200)
        self.token = token
        return token

    async def logout(self) -> None:
        try:
            if self.token:
                await self._request("POST", f"{API}/auth/logout")
        finally:
            self.token = None

    async def me(self) -> User:
        return await self._json("GET", f"{API}/auth/me", User)

    # -- avatars ----------------------------------------------------------------------------
    async def avatars(self) -> list[Avatar]:
        return await self._json("GET", f"{API}/avatars", list[Avatar])

    async def avatar(self, avatar_id: int) -> Avatar:
        return await self._json("GET", f"{API}/avatars/{avatar_id}", Avatar)

    async def create_avatar(self, draft: AvatarDraft) -> Avatar:
        body = {
            "name": draft.name,
            "relationship": draft.relationship,
            "user_name": draft.user_name,
            "consent": draft.consent,
            "consent_statement": draft.consent_statement,
        }
        return await self._json("POST", f"{API}/avatars", Avatar, json=body)

    async def update_avatar(self, avatar_id: int, draft: AvatarDraft) -> Avatar:
        body = {"name": draft.name, "relationship": draft.relationship, "user_name": draft.user_name}
        return await self._json("PATCH", f"{API}/avatars/{avatar_id}", Avatar, json=body)

    async def delete_avatar(self, avatar_id: int) -> None:
        await self._request("DELETE", f"{API}/avatars/{avatar_id}")

    # -- photos and voice -------------------------------------------------------------------
    async def photos(self, avatar_id: int) -> list[Photo]:
        return await self._json("GET", f"{API}/avatars/{avatar_id}/photos", list[Photo])

    async def upload_photo(self, avatar_id: int, path: Path) -> Photo:
        return await self._upload(f"{API}/avatars/{avatar_id}/photos", path, Photo)

    async def set_primary_photo(self, avatar_id: int, photo_id: int) -> None:
        await self._request("PUT", f"{API}/avatars/{avatar_id}/photos/{photo_id}/primary")

    async def delete_photo(self, avatar_id: int, photo_id: int) -> None:
        await self._request("DELETE", f"{API}/avatars/{avatar_id}/photos/{photo_id}")

    async def photo_bytes(self, avatar_id: int, photo_id: int) -> bytes:
        return (await self._request("GET", f"{API}/avatars/{avatar_id}/photos/{photo_id}/file")).content

    async def voice_samples(self, avatar_id: int) -> list[VoiceSample]:
        return await self._json("GET", f"{API}/avatars/{avatar_id}/voice-samples", list[VoiceSample])

    async def upload_voice(self, avatar_id: int, path: Path) -> VoiceSample:
        return await self._upload(f"{API}/avatars/{avatar_id}/voice-samples", path, VoiceSample)

    async def delete_voice(self, avatar_id: int, sample_id: int) -> None:
        await self._request("DELETE", f"{API}/avatars/{avatar_id}/voice-samples/{sample_id}")

    # -- personality and memories -----------------------------------------------------------
    async def personality(self, avatar_id: int) -> Personality:
        return await self._json("GET", f"{API}/avatars/{avatar_id}/personality", Personality)

    async def set_personality(self, avatar_id: int, value: Personality) -> Personality:
        return await self._json(
            "PUT", f"{API}/avatars/{avatar_id}/personality", Personality, json=msgspec.to_builtins(value)
        )

    async def memories(self, avatar_id: int) -> list[Memory]:
        return await self._json("GET", f"{API}/avatars/{avatar_id}/memories", list[Memory])

    async def add_memory(self, avatar_id: int, text: str) -> Memory:
        return await self._json("POST", f"{API}/avatars/{avatar_id}/memories", Memory, json={"text": text})

    async def delete_memory(self, avatar_id: int, memory_id: int) -> None:
        await self._request("DELETE", f"{API}/avatars/{avatar_id}/memories/{memory_id}")

    # -- calls ------------------------------------------------------------------------------
    async def offer(self, avatar_id: int, sdp: str, sdp_type: str = "offer", *, record: bool = False) -> CallAnswer:
        """Send our SDP offer for a call with the avatar; the answer opens the call."""
        body = {"sdp": sdp, "type": sdp_type, "record": record}
        return await self._json("POST", f"{API}/avatars/{avatar_id}/calls", CallAnswer, json=body)

    async def ice_servers(self) -> list[dict[str, str]]:
        """The STUN/TURN servers the server's own peer uses ({urls, username?, credential?}), so a
        call from outside the house can be relayed."""
        response = await self._request("GET", f"{API}/calls/ice")
        servers = response.json().get("ice_servers", [])
        return [s for s in servers if isinstance(s, dict) and isinstance(s.get("urls"), str)]

    async def end_call(self, call_id: int) -> CallRecord:
        """Hang up; the server closes the call row (it records its own reason, "hung up")."""
        return await self._json("POST", f"{API}/calls/{call_id}/end", CallRecord)

    async def rate_call(self, call_id: int, stars: int) -> None:
        await self._request("POST", f"{API}/calls/{call_id}/rating", json={"rating": stars})

    async def calls(self) -> list[CallRecord]:
        return await self._json("GET", f"{API}/calls", list[CallRecord])

    async def call(self, call_id: int) -> CallRecord:
        return await self._json("GET", f"{API}/calls/{call_id}", CallRecord)

    # -- plumbing ---------------------------------------------------------------------------
    async def _upload(self, path: str, file: Path, kind: type[T]) -> T:
        media_type = _MEDIA_TYPES.get(file.suffix.lower(), "application/octet-stream")
        files = {"file": (file.name, file.read_bytes(), media_type)}
        return await self._json("POST", path, kind, files=files)

    async def _json(self, method: str, path: str, kind: type[T], *, auth: bool = True, **kwargs: Any) -> T:
        response = await self._request(method, path, auth=auth, **kwargs)
        try:
            return msgspec.json.decode(response.content, type=kind)
        except msgspec.ValidationError as exc:
            raise ApiError(
                f"The server sent something this app does not understand: {exc}", status=response.status_code
            ) from exc

    async def _request(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if auth and self.token else {}
        try:
            response = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise ServerUnreachable(
                f"The server at {self.base_url} did not answer in time. Check your connection."
            ) from exc
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise UntrustedCertificate(
                    f"The server at {self.base_url} has a certificate this phone does not trust."
                ) from exc
            raise ServerUnreachable(
                f"Cannot reach the server at {self.base_url}. Check the address and your network."
            ) from exc
        except httpx.TransportError as exc:
            raise ServerUnreachable(
                f"Cannot reach the server at {self.base_url}. Check the address and your network."
            ) from exc
        if response.status_code == 401 and auth:
            self.token = None
            if self.on_session_expired is not None:
                self.on_session_expired()
            raise SessionExpired("Your session has expired. Please log in again.")
        if response.status_code >= 400:
            message, hint = _error_text(response)
            log.info(
                "%s %s -> %s: %s (%s)",
                response.request.method,
                response.request.url.path,
                response.status_code,
                message,
                hint,
            )
            raise ApiError(plain_message(response.status_code, message, hint), status=response.status_code)
        return response


def _error_text(response: httpx.Response) -> tuple[str, str | None]:
    """The server's {"error", "hint"} body, or Litestar's {"detail"}, or a generic line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("error") or body.get("detail")
        if isinstance(message, str) and message:
            hint = body.get("hint")
            return message, hint if isinstance(hint, str) and hint else None
    if response.status_code == 401:
        return "Wrong email or password.", None
    return f"The server answered {response.status_code} {response.reason_phrase}.", None
