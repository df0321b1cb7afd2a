"""The app shell: route modules (missing ones skipped, broken ones loud), their lifespan hooks,
the state every route can rely on, and the one error shape."""

from __future__ import annotations

import sys
import types
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from server import app as app_module
from server.errors import ConfigError
from server.registry import Registry
from server.settings import Settings


@pytest.fixture
def extra_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A route module `memoria_test_extra` with one route and a lifespan hook that logs events."""
    events: list[str] = []

    @get("/extra/state", sync_to_thread=False)
    def state_route(settings: Any, registry: Any) -> dict[str, bool]:
        return {"settings": isinstance(settings, Settings), "registry": isinstance(registry, Registry)}

    @asynccontextmanager
    async def hook(app: Litestar) -> AsyncIterator[None]:
        events.append(f"start, sessionmaker ready: {app.state.get('sessionmaker') is not None}")
        yield
        events.append("stop")

    module = types.ModuleType("memoria_test_extra")
    module.ROUTES = [state_route]  # type: ignore[attr-defined]
    module.LIFESPAN = [hook]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "memoria_test_extra", module)
    monkeypatch.setattr(
        app_module, "ROUTE_MODULES", [*app_module.ROUTE_MODULES, "memoria_test_extra", "memoria_not_installed.routes"]
    )
    yield events


async def test_route_modules_and_their_lifespan(
    extra_module: list[str], settings: Settings, registry: Registry
) -> None:
    app = app_module.create_app(settings, registry=registry)
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/extra/state")
        assert response.json() == {"settings": True, "registry": True}
        assert app.state.settings is settings and app.state.registry is registry
        assert extra_module == ["start, sessionmaker ready: True"]
    assert extra_module == ["start, sessionmaker ready: True", "stop"]


def test_a_route_module_that_fails_inside_is_not_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "memoria_test_broken.py").write_text("import memoria_dependency_not_installed\nROUTES = []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="memoria_dependency_not_installed"):
        app_module.route_modules(["memoria_test_broken"])
    assert app_module.route_modules(["memoria_not_installed.routes"]) == []


async def test_registry_is_loaded_from_the_settings_file_when_not_given(settings: Settings, tmp_path: Path) -> None:
    missing = settings.with_changes(registry_file=tmp_path / "absent.toml")
    app = app_module.create_app(missing)
    with pytest.raises(BaseException) as raised:  # Litestar may wrap start-up errors in a group
        async with AsyncTestClient(app=app):
            pass
    errors = _leaves(raised.value)
    assert any(isinstance(e, ConfigError) and "absent.toml" in str(e) for e in errors), errors


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]
