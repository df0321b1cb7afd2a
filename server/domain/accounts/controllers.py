"""/auth: register, log in (bearer token), log out, who am I."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from server.deps import AppSettings, BearerToken, CurrentUser, DbSession, Throttle
from server.domain.accounts import services
from server.domain.accounts.schemas import LoginRequest, TokenRead, UserCreate, UserRead


class AuthController(Controller):
    path = "/auth"
    tags = ("auth",)

    @post("/register", status_code=201, summary="Create an account")
    async def register(self, data: JSONBody[UserCreate], db_session: DbSession) -> UserRead:
        user = await services.register(db_session, data)
        return services.user_read(user)

    @post("/login", status_code=200, summary="Log in; the token goes in `Authorization: Bearer ...`")
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        db_session: DbSession,
        settings: AppSettings,
        login_throttle: Throttle,
    ) -> TokenRead:
        address = request.client.host if request.client else ""
        return await services.login(
            db_session, data, ttl_hours=settings.token_ttl_hours, throttle=login_throttle, address=address
        )

    @post("/logout", status_code=204, summary="Forget this token", security=[{"bearer": []}])
    async def logout(self, db_session: DbSession, bearer_token: BearerToken, current_user: CurrentUser) -> None:
        await services.logout(db_session, bearer_token)

    @get("/me", summary="The logged-in user", security=[{"bearer": []}])
    async def me(self, current_user: CurrentUser) -> UserRead:
        return services.user_read(current_user)
