"""The three persona plugins register through the hook and build from the registry with their config."""

from __future__ import annotations

from pathlib import Path

from server.backends import BackendKind, PersonaBackend
from server.registry import Registry, RegistryFile

MODULES = ["plugins.grounded", "plugins.gemini", "plugins.openai_compatible"]


def test_plugins_register_and_build(tmp_path: Path) -> None:
    file = RegistryFile(
        plugins={"modules": MODULES},
        defaults={"persona": "grounded"},
        config={"openai_compatible": {"base_url": "http://127.0.0.1:9/v1"}, "grounded": {"country": "NZ"}},
    )
    registry = Registry(file, weights_dir=tmp_path)
    registry.load(entry_points=False)
    assert {"grounded", "gemini", "openai_compatible"} <= set(registry.names(BackendKind.PERSONA))
    assert registry.status(BackendKind.PERSONA, "grounded").ready
    grounded = registry.create(BackendKind.PERSONA)
    assert isinstance(grounded, PersonaBackend) and grounded.config["country"] == "NZ"
    remote = registry.create(BackendKind.PERSONA, "openai_compatible")
    assert remote.config["base_url"] == "http://127.0.0.1:9/v1"
