"""The Litestar application: the runtime opened in one lifespan (server.runtime), dependencies,
error responses, and the routes of the domains and the web app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from server.deps import DEPENDENCIES
from server.domain.routes import ROUTES as DOMAIN_ROUTES
from server.http.bodies import strict_json_body
from server.http.errors import EXCEPTION_HANDLERS
from server.http.headers import body_deadline, security_headers
from server.http.openapi import document_errors
from server.lan.routes import ROUTES as LAN_ROUTES
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

    app = Litestar(
        route_handlers=[*DOMAIN_ROUTES, *LAN_ROUTES, *WEB_ROUTES],
        lifespan=[lifespan],
        state=State({"settings": settings}),
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=strict_json_body,
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
    document_errors(app)
    # Around everything, 404s and static pages included: security headers, and a deadline for slow bodies.
    deadline = body_deadline(settings.limits.upload_idle_s, settings.limits.upload_total_s)
    app.asgi_handler = security_headers(deadline(app.asgi_handler))
    return app
