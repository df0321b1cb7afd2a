"""The Litestar application: the runtime opened in one lifespan (server.runtime), dependencies,
error responses, and the routes of the domains and the web app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE, HTTP_500_INTERNAL_SERVER_ERROR

from server.deps import DEPENDENCIES
from server.domain.routes import ROUTES as DOMAIN_ROUTES
from server.errors import MemoriaError, NotAuthenticated
from server.registry import Registry
from server.runtime import Runtime
from server.settings import Settings, load_settings
from server.web.routes import ROUTES as WEB_ROUTES

log = logging.getLogger(__name__)
MULTIPART_SLACK = 64 * 1024  # form boundaries and part headers around an upload at the size limit


def create_app(settings: Settings | None = None, *, registry: Registry | None = None) -> Litestar:
    """Build the app; its runtime (database, registry unless given, pool, calls, jobs) opens at start-up."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with Runtime.open(settings, registry) as runtime:
            app.state.runtime = runtime
            try:
                yield
            finally:
                del app.state.runtime

    return Litestar(
        route_handlers=[*DOMAIN_ROUTES, *WEB_ROUTES],
        lifespan=[lifespan],
        state=State({"settings": settings}),
        dependencies=DEPENDENCIES,
        exception_handlers={
            MemoriaError: memoria_error_response,
            HTTPException: http_error_response,
            Exception: unexpected_error_response,
        },
        request_max_body_size=settings.limits.upload_bytes + MULTIPART_SLACK,
        openapi_config=OpenAPIConfig(
            title="Memoria",
            version="0.1.0",
            path="/schema",
            description="A live video call with an avatar of someone you lost. Log in at /auth/login, "
            "then send `Authorization: Bearer <token>`.",
            components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
        ),
    )


def error_body(message: str, hint: str | None = None) -> dict[str, Any]:
    return {"error": message, "hint": hint}


def memoria_error_response(request: Request[Any, Any, Any], exc: MemoriaError) -> Response[dict[str, Any]]:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
    return Response(error_body(exc.message, exc.hint), status_code=exc.status_code, headers=headers)


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


def unexpected_error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        error_body("internal server error", "see the server log"), status_code=HTTP_500_INTERNAL_SERVER_ERROR
    )
