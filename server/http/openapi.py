"""The error responses of every operation, in the OpenAPI schema as the server really sends them.

Each operation documents the one error shape (`ErrorBody`) under every status it can answer with:
400 for any input, 401/403 where a login is needed, 404 where the path names a row, 408/413/415
where a body is read, 409 where it changes something, 503 everywhere (the database may be away),
and what a handler declares itself in `opt={"errors": (...)}` (429 of the login throttle, ...).
"""

from __future__ import annotations

import msgspec
from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute

AUTHENTICATED = frozenset({"current_user", "avatar", "bearer_token"})
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DESCRIPTIONS = {
    400: "The request is malformed or a value is out of its bounds",
    401: "Not logged in, or the token expired (log in at /auth/login)",
    403: "Refused: a browser request without the CSRF header",
    404: "No such row of yours (a row of another user is answered the same)",
    408: "The request body arrived too slowly",
    409: "Conflicts with what is stored",
    413: "The request body is larger than the upload limit",
    415: "The body is not of the media type this operation reads",
    429: "Too many attempts or calls: wait Retry-After seconds",
    503: "The server or its database is busy or away: try again after Retry-After seconds",
}


class ErrorBody(msgspec.Struct, frozen=True):
    """Every error the API answers: what went wrong, and what to do about it."""

    error: str
    hint: str | None


def error_codes(path: str, method: str, parameters: frozenset[str], declared: tuple[int, ...]) -> set[int]:
    """The statuses an operation can answer with besides its success (see the module docstring)."""
    codes = {400, 503, *declared}
    if parameters & AUTHENTICATED:
        codes |= {401, 403} if method in MUTATING else {401}
    if "{" in path:
        codes.add(404)
    if "data" in parameters:
        codes |= {408, 413, 415}
    if method in MUTATING:
        codes.add(409)
    return codes


def document_errors(app: Litestar) -> None:
    """Add the error responses to every operation in the schema (call before /schema is first served)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            parameters = frozenset(handler.parsed_fn_signature.parameters)
            declared = tuple(handler.opt.get("errors", ()))
            for method in handler.http_methods:
                codes = error_codes(route.path, method, parameters, declared)
                responses = {
                    code: ResponseSpec(data_container=ErrorBody, description=DESCRIPTIONS[code]) for code in codes
                }
                handler.responses = {**responses, **(handler.responses or {})}
