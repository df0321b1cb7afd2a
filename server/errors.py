"""One error hierarchy for the whole server.

Errors carry an HTTP status so the web boundary can turn them into responses without
guessing; everything below the boundary raises these and never builds responses itself.
"""

from __future__ import annotations


class MemoriaError(Exception):
    """Base of every error Memoria raises on purpose."""

    status_code: int = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(MemoriaError):
    """Bad or incomplete configuration; raised at start-up with a fix in `hint`."""


class PluginError(ConfigError):
    """A plugin could not be loaded, clashes with another, or breaks its contract."""


class WeightsMissing(PluginError):
    """A backend's model files are not on disk; `hint` names the command that fixes it."""


class DependencyMissing(PluginError):
    """A backend's Python packages are not installed; `hint` names the extra to install."""


class BadInput(MemoriaError):
    """The client sent something we cannot accept (wrong format, too large, no face...)."""

    status_code = 400


class TooLarge(BadInput):
    """The upload or field exceeds a configured limit."""

    status_code = 413


class UnsupportedMedia(BadInput):
    """The file is not of a kind this endpoint accepts."""

    status_code = 415


class NotAuthenticated(MemoriaError):
    """No valid credentials were presented."""

    status_code = 401


class Forbidden(MemoriaError):
    """Authenticated, but this request is refused (e.g. a cookie request without its CSRF token)."""

    status_code = 403


class NotFound(MemoriaError):
    """The thing does not exist, or belongs to someone else (we never say which)."""

    status_code = 404


class Conflict(MemoriaError):
    """The request clashes with the current state (e.g. an email already registered)."""

    status_code = 409


class Busy(MemoriaError):
    """Not now: the database is unreachable or the server is at its limit; `retry_after` seconds."""

    status_code = 503

    def __init__(self, message: str, *, hint: str | None = None, retry_after: int = 5) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class BackendFailure(MemoriaError):
    """A backend raised while streaming; the call decides whether to go on."""

    status_code = 502
