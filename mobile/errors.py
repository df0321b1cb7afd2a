"""Errors the app shows to a person; each carries a message written for them, not for us."""

from __future__ import annotations


class AppError(Exception):
    """Base of every error the app turns into a message on screen."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ServerUnreachable(AppError):
    """The server did not answer: wrong address, no network, or it is down."""


class SessionExpired(AppError):
    """The server refused our token (expired or logged out elsewhere): log in again."""


class ApiError(AppError):
    """The server answered with an error; `status` is the HTTP status, `hint` its advice."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(f"{message} ({hint})" if hint else message)
        self.status = status
        self.hint = hint


class CallFailed(AppError):
    """The call could not be set up or was lost and could not be recovered."""


class UntrustedCertificate(AppError):
    """The server's https certificate is not one this phone trusts (yet)."""
