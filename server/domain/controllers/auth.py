"""/auth: register, log in (bearer token), log out, who am I."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from server.deps import AppSettings, BearerToken, CurrentUser, DbSession
from server.domain import accounts
from server.domain.schemas import LoginRequest, TokenRead, UserCreate, UserRead
from server.domain.throttle import LoginThrottle


class AuthController(Controller):
    path = "/auth"
    tags = ("auth",)

    @post("/register", status_code=201, summary="Create an account")
    async def register(self, data: JSONBody[UserCreate], db_session: DbSession) -> UserRead:
        user = await accounts.register(db_session, data)
        return accounts.user_read(user)

    @post("/login", status_code=200, summary="Log in; the token goes in `Authorization: Bearer ...`")
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        db_session: DbSession,
        settings: AppSettings,
    ) -> TokenRead:
        throttle: LoginThrottle = request.app.state.login_throttle
        address = request.client.host if request.client else ""
        return await accounts.login(
            db_session, data, ttl_hours=settings.token_ttl_hours, throttle=throttle, address=address
        )

    @post("/logout", status_code=204, summary="Forget this token", security=[{"bearer": []}])
    async def logout(self, db_session: DbSession, bearer_token: BearerToken, current_user: CurrentUser) -> None:
        await accounts.logout(db_session, bearer_token)

    @get("/me", summary="The logged-in user", security=[{"bearer": []}])
    async def me(self, current_user: CurrentUser) -> UserRead:
        return accounts.user_read(current_user)
