"""/auth: register, log in (bearer token for apps, a cookie session for the web app), log out here
or everywhere, who am I."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from server.deps import AppSettings, BearerToken, CurrentUser, DbSession, Throttle
from server.domain.accounts import services
from server.domain.accounts.cookies import CLEARED_COOKIES, session_cookies
from server.domain.accounts.schemas import (
    LoginRequest,
    LogoutEverywhereRead,
    RegistrationRead,
    TokenRead,
    UserCreate,
    UserRead,
)
from server.domain.accounts.throttle import LoginThrottle
from server.settings import Settings


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else ""


async def _log_in(
    request: Request[Any, Any, Any],
    data: LoginRequest,
    db_session: AsyncSession,
    settings: Settings,
    throttle: LoginThrottle,
) -> TokenRead:
    """The one login both the token and the browser-session routes make (throttled per address)."""
    return await services.login(
        db_session, data, ttl_hours=settings.token_ttl_hours, throttle=throttle, address=_address(request)
    )


class AuthController(Controller):
    path = "/auth"
    tags = ("auth",)

    @post(
        "/register",
        status_code=202,
        summary="Create an account",
        description="The same answer whether or not the email already has an account; then log in.",
    )
    async def register(self, data: JSONBody[UserCreate], db_session: DbSession) -> RegistrationRead:
        await services.register(db_session, data)
        return RegistrationRead()

    @post(
        "/login",
        status_code=200,
        summary="Log in; the token goes in `Authorization: Bearer ...`",
        opt={"errors": (401, 429)},
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        db_session: DbSession,
        settings: AppSettings,
        login_throttle: Throttle,
    ) -> TokenRead:
        return await _log_in(request, data, db_session, settings, login_throttle)

    @post(
        "/session",
        status_code=200,
        summary="Log this browser in (HttpOnly cookie; send the memoria_csrf cookie's value as X-CSRF-Token)",
        opt={"errors": (401, 429)},
    )
    async def start_session(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        db_session: DbSession,
        settings: AppSettings,
        login_throttle: Throttle,
    ) -> Response[UserRead]:
        issued = await _log_in(request, data, db_session, settings, login_throttle)
        return Response(issued.user, cookies=session_cookies(issued.token, issued.expires_at))

    @delete(
        "/session",
        status_code=204,
        summary="Log this browser out",
        security=[{"bearer": []}],
        response_cookies=CLEARED_COOKIES,
    )
    async def end_session(self, db_session: DbSession, bearer_token: BearerToken) -> None:
        await services.logout(db_session, bearer_token)

    @post("/logout", status_code=204, summary="Forget this token", security=[{"bearer": []}])
    async def logout(self, db_session: DbSession, bearer_token: BearerToken, current_user: CurrentUser) -> None:
        await services.logout(db_session, bearer_token)

    @post("/logout-everywhere", status_code=200, summary="Log out every device and browser", security=[{"bearer": []}])
    async def logout_everywhere(self, db_session: DbSession, current_user: CurrentUser) -> LogoutEverywhereRead:
        return LogoutEverywhereRead(signed_out=await services.logout_everywhere(db_session, current_user))

    @get("/me", summary="The logged-in user", security=[{"bearer": []}])
    async def me(self, current_user: CurrentUser) -> UserRead:
        return services.user_read(current_user)
