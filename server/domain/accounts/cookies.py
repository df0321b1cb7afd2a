"""The web app's login: the token in an HttpOnly cookie (page scripts never see it) and a CSRF
token in a readable cookie that every changing request echoes in a header (double submit).
The phone app and API clients keep sending `Authorization: Bearer`."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from server.errors import Forbidden

SESSION_COOKIE = "memoria_session"
CSRF_COOKIE = "memoria_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_cookies(token: str, expires_at: datetime) -> list[Cookie]:
    """Cookies that log this browser in until `expires_at`."""
    expires = int(expires_at.timestamp())
    common: dict[str, Any] = {"path": "/", "secure": True, "samesite": "strict", "expires": expires}
    return [
        Cookie(key=SESSION_COOKIE, value=token, httponly=True, **common),
        Cookie(key=CSRF_COOKIE, value=secrets.token_urlsafe(24), httponly=False, **common),
    ]


# Sent on logout: both cookies expire at once.
CLEARED_COOKIES = [
    Cookie(key=key, value="", path="/", max_age=0, expires=0, secure=True, samesite="strict", httponly=httponly)
    for key, httponly in ((SESSION_COOKIE, True), (CSRF_COOKIE, False))
]


def token_from_cookie(request: Request[Any, Any, Any]) -> str | None:
    """The session cookie's token; a changing request must carry the CSRF header matching its cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    if request.method not in SAFE_METHODS:
        expected = request.cookies.get(CSRF_COOKIE, "")
        sent = request.headers.get(CSRF_HEADER, "")
        if not expected or not hmac.compare_digest(expected, sent):
            raise Forbidden("this request was refused for your safety", hint="reload the page and try again")
    return token
