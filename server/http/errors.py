"""Every error as one JSON shape, `{"error": "...", "hint": "..." | null}`, with no internals: a
database that is away is a 503 with Retry-After, never its SQL; an input the server cannot even
parse is a 400; anything unexpected is logged and reported as a 500 without details."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE, HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from server.errors import MemoriaError, NotAuthenticated

log = logging.getLogger(__name__)
DATABASE_RETRY_S = 5


def error_body(message: str, hint: str | None = None) -> dict[str, Any]:
    return {"error": message, "hint": hint}


def memoria_error_response(request: Request[Any, Any, Any], exc: MemoriaError) -> Response[dict[str, Any]]:
    headers: dict[str, str] = {}
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    return Response(error_body(exc.message, exc.hint), status_code=exc.status_code, headers=headers or None)


def http_error_response(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    """Litestar's own errors (validation, 404 route, 405, 413) in the same shape as ours."""
    message, hint = exc.detail, None
    if isinstance(exc, ValidationException):
        problems = (
            [_describe(item) for item in (exc.extra or []) if isinstance(item, dict)]
            if isinstance(exc.extra, list)
            else []
        )
        message = "invalid request: " + "; ".join(problems) if problems else f"invalid request: {exc.detail}"
        hint = "see /schema for the expected fields"
    elif "multipart" in str(exc.detail):
        hint = "send the file as multipart/form-data in a field named `file`"
    elif exc.status_code == HTTP_413_REQUEST_ENTITY_TOO_LARGE:
        limit = request.app.state.settings.limits.upload_bytes
        message = f"the request is larger than the {limit / 2**20:.0f} MiB limit"
        hint = "send a smaller file"
    return Response(error_body(message, hint), status_code=exc.status_code, headers=exc.headers)


def _describe(item: dict[str, Any]) -> str:
    text = str(item.get("message", "invalid value"))
    key = item.get("key")
    return f"{key}: {text}" if key and key != "data" and str(key) not in text else text


def database_error_response(request: Request[Any, Any, Any], exc: DBAPIError | PoolTimeout) -> Response[dict[str, Any]]:
    """The database is unreachable (or refused in a way a retry may fix): 503, details only in the log."""
    if isinstance(exc, IntegrityError):
        return unexpected_error_response(request, exc)
    if not isinstance(exc, (OperationalError, InterfaceError, PoolTimeout)) and not exc.connection_invalidated:
        return unexpected_error_response(request, exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return Response(
        error_body("the server cannot reach its database right now", "try again in a few seconds"),
        status_code=503,
        headers={"Retry-After": str(DATABASE_RETRY_S)},
    )


def unparseable_response(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Input that breaks the parser itself (nested too deep, not UTF-8, a number too large): 400."""
    log.info("refused an unparseable request on %s %s: %r", request.method, request.url.path, exc)
    return Response(error_body("the request could not be read", "check what was sent"), status_code=400)


def unexpected_error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        error_body("internal server error", "see the server log"), status_code=HTTP_500_INTERNAL_SERVER_ERROR
    )


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    MemoriaError: memoria_error_response,
    HTTPException: http_error_response,
    DBAPIError: database_error_response,
    PoolTimeout: database_error_response,
    ConnectionError: database_error_response,
    RecursionError: unparseable_response,
    UnicodeDecodeError: unparseable_response,
    OverflowError: unparseable_response,
    Exception: unexpected_error_response,
}
