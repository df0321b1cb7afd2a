"""The app shell: one runtime built at start-up in a fixed order, handed to routes by dependency
injection, closed in reverse at shutdown; a start-up error is loud."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from server import app as app_module
from server.errors import ConfigError
from server.registry import Registry
from server.runtime import Runtime
from server.settings import Settings


async def test_the_runtime_is_built_at_start_up_and_closed_in_reverse(
    settings: Settings, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    app = app_module.create_app(settings, registry=registry)
    async with AsyncTestClient(app=app) as client:
        runtime: Runtime = app.state.runtime
        assert runtime.registry is registry and runtime.settings is settings
        assert runtime.calls.pool is runtime.pool and runtime.media.pool is runtime.pool  # one pool
        for name, obj in (("media", runtime.media), ("calls", runtime.calls), ("pool", runtime.pool)):
            method = "close_all" if name == "calls" else "aclose"
            original = getattr(obj, method)

            async def record(*args: object, _name: str = name, _original: object = original) -> None:
                closed.append(_name)
                await _original(*args)  # type: ignore[operator]

            monkeypatch.setattr(obj, method, record)
        assert (await client.get("/auth/me")).status_code == 401  # routes are served
    assert closed == ["media", "calls", "pool"]
    assert runtime.pool.closed


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
