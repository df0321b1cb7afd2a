"""Small pieces every command shares: settings, the registry, and turning errors into messages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from server.errors import MemoriaError
from server.registry import Registry
from server.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Show a MemoriaError as one line with its fix instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MemoriaError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def settings_and_registry() -> tuple[Settings, Registry]:
    settings = load_settings()
    return settings, Registry.from_file(settings.registry_file, weights_dir=settings.weights_dir)
