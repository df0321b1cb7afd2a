"""Every backend the project registers keeps the contract of `server.testing.check_backend`.

Parametrised over the real registry (plugin_registry.toml + entry points), so a new plugin is
tested as soon as it is listed. A backend that is not ready here must say what fixes it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from server.backends import BackendKind, Readiness
from server.registry import Registry
from server.testing import check_backend

ROOT = Path(__file__).parents[2]
REGISTRY = Registry.from_file(ROOT / "plugin_registry.toml", weights_dir=ROOT / "weights")
ALL = [(kind, name) for kind in BackendKind for name in REGISTRY.names(kind)]


@pytest.mark.parametrize(("kind", "name"), ALL, ids=[f"{k.value}:{n}" for k, n in ALL])
async def test_backend_keeps_the_contract(kind: BackendKind, name: str) -> None:
    entry = REGISTRY.entry(kind, name)
    if entry.cls is None:  # its module could not be imported: a status with the install command
        status = REGISTRY.status(kind, name)
        assert status.state is Readiness.MISSING_DEPENDENCY and status.fix and status.detail
        return
    report = await check_backend(entry.cls, config=REGISTRY.config_for(name), weights_dir=REGISTRY.weights_dir)
    assert report.kind is kind and report.name == name
    assert report.ran or report.status.state is not Readiness.READY


def test_registry_has_a_default_of_every_kind() -> None:
    for kind in BackendKind:
        assert REGISTRY.default_name(kind) in REGISTRY.names(kind)
