"""Every HTTP route of the domains, collected by `server.app`."""

from __future__ import annotations

from server.domain.accounts.controllers import AuthController
from server.domain.avatars.controllers import ROUTES as AVATAR_ROUTES
from server.domain.calls.controllers import ROUTES as CALL_ROUTES
from server.domain.media.controllers import ROUTES as MEDIA_ROUTES

ROUTES: list[type] = [AuthController, *AVATAR_ROUTES, *MEDIA_ROUTES, *CALL_ROUTES]
