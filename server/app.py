"""The Litestar application: lifespan (database, plugin registry), dependencies, error responses,
and the routes of every module in ROUTE_MODULES."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE, HTTP_500_INTERNAL_SERVER_ERROR

from server.deps import DEPENDENCIES
from server.domain.throttle import LoginThrottle
from server.errors import MemoriaError, NotAuthenticated
from server.registry import Registry
from server.settings import Settings, load_settings
from server.storage import Storage

log = logging.getLogger(__name__)

# Modules that expose `ROUTES: list` (and optionally `LIFESPAN: list` of async context managers
# taking the app, entered after the database is open and left before it closes); one that is not
# installed (yet) is skipped.
ROUTE_MODULES = ["server.domain.routes", "server.calls.routes", "server.web.routes"]
MULTIPART_SLACK = 64 * 1024  # form boundaries and part headers around an upload at the size limit


def create_app(settings: Settings | None = None, *, registry: Registry | None = None) -> Litestar:
    """Build the app; the database and (unless given) the plugin registry are opened at start-up."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        from server.db.engine import make_engine, make_sessionmaker

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if app.state.get("registry") is None:
            app.state.registry = Registry.from_file(settings.registry_file, weights_dir=settings.weights_dir)
        engine = make_engine(settings.db_url)
        try:
            app.state.sessionmaker = make_sessionmaker(engine)
            yield
        finally:
            await engine.dispose()

    modules = route_modules(ROUTE_MODULES)
    return Litestar(
        route_handlers=[route for module in modules for route in module.ROUTES],
        lifespan=[lifespan, *(hook for module in modules for hook in getattr(module, "LIFESPAN", ()))],
        state=State(
            {
                "settings": settings,
                "registry": registry,
                "storage": Storage(settings.data_dir),
                "login_throttle": LoginThrottle(),
            }
        ),
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


def route_modules(module_names: list[str]) -> list[ModuleType]:
    """The modules that exist; a missing module is skipped, but one that fails inside raises."""
    modules: list[ModuleType] = []
    for name in module_names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
                log.debug("route module %s not installed; skipped", name)
                continue
            raise
        modules.append(module)
    return modules


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
