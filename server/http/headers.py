"""Security headers on every response, and a deadline for clients that send a body too slowly.

Both are plain ASGI middleware so they cover everything the app serves, static pages included.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",  # no inline script anywhere in the web app
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=(), payment=(), usb=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


def security_headers(app: ASGIApp) -> ASGIApp:
    """Add SECURITY_HEADERS to every HTTP response (a header the app set itself is kept)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


class SlowBody(Exception):
    """The client sent its request body too slowly."""


def body_deadline(idle_s: float, total_s: float) -> Any:
    """Middleware factory: a request body must keep arriving (a chunk every `idle_s`) and be complete
    within `total_s`, or the request ends with 408; a slow client cannot hold a worker forever."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.monotonic()
            state = {"responded": False, "body_done": False}

            async def timed_receive() -> Message:
                if state["body_done"]:  # after the body: e.g. waiting for a disconnect, unbounded
                    return await receive()
                left = total_s - (time.monotonic() - started)
                try:
                    message = await asyncio.wait_for(receive(), timeout=max(0.01, min(idle_s, left)))
                except TimeoutError:
                    raise SlowBody from None
                if message["type"] != "http.request" or not message.get("more_body", False):
                    state["body_done"] = True
                return message

            async def tracking_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    state["responded"] = True
                await send(message)

            try:
                await app(scope, timed_receive, tracking_send)
            except SlowBody:
                if not state["responded"]:
                    await _too_slow(send)

        return middleware

    return wrap


async def _too_slow(send: Send) -> None:
    body = b'{"error":"the upload was too slow and has been stopped","hint":"try again on a better connection"}'
    await send(
        {
            "type": "http.response.start",
            "status": 408,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
