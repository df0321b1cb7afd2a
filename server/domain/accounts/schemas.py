"""What the account endpoints take and give."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from server.domain.schemas import Email, Input, Output, Password, ShortText


class UserCreate(Input):
    email: Email
    password: Password
    display_name: ShortText = ""


class LoginRequest(Input):
    email: Annotated[str, Meta(max_length=254)]
    password: Annotated[str, Meta(max_length=1024)]


class UserRead(Output, kw_only=True):
    id: int
    email: str
    display_name: str
    created_at: datetime


class TokenRead(Output, kw_only=True):
    token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: UserRead


class RegistrationRead(Output, kw_only=True):
    """The same answer whether or not the email was already registered."""

    status: str = "registered"
    next: str = "now log in (POST /auth/login, or POST /auth/session in a browser)"


class LogoutEverywhereRead(Output, kw_only=True):
    signed_out: int  # how many devices and browsers were logged out
