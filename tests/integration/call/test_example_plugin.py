"""The example plugin package (examples/memoria-example-animator), pip-installed as a user would
(./scripts/test does it), found through its entry point and used for a whole call."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from server.backends import BackendKind
from server.registry import Registry, RegistryFile
from server.testing import check_backend

pytestmark = pytest.mark.slow
NAME = "example-breathing"


def installed() -> bool:
    from importlib.metadata import entry_points

    return any(e.value == "memoria_example_animator" for e in entry_points(group="memoria.plugins"))


if not installed():
    if os.environ.get("CI") == "true":
        raise RuntimeError("the example plugin is not installed: ./scripts/test installs it")
    pytest.skip("pip install ./examples/memoria-example-animator (./scripts/test does)", allow_module_level=True)


@pytest.fixture
def registry(tmp_path: Path, backend_config: dict[str, dict[str, Any]]) -> Registry:
    file = RegistryFile(
        plugins={"modules": ["plugins.basic"], "entry_points": True},
        defaults={"asr": "basic-asr", "persona": "basic-persona", "voice": "basic-voice", "animator": NAME},
        config={**backend_config, NAME: {"glow": 0.6}},
    )
    registry = Registry(file, weights_dir=tmp_path / "weights")
    registry.load(entry_points=True)
    return registry


async def test_the_installed_plugin_keeps_the_contract(registry: Registry) -> None:
    assert registry.status(BackendKind.ANIMATOR, NAME).ready
    entry = registry.entry(BackendKind.ANIMATOR, NAME)
    assert entry.cls is not None and entry.cls.__module__ == "memoria_example_animator.animator"
    report = await check_backend(entry.cls, config=registry.config_for(NAME))
    assert report.ran and report.items == 25


async def test_a_call_shows_the_plugins_face(client, auth, call, speech) -> None:
    from .test_call_api import final_reply, wait_for

    peer, call_id = await call()
    try:
        peer.say(speech(1.0), 48000)
        await wait_for(peer, final_reply(1), timeout=30)
        frames = [image for _, image in peer.received.video]
        assert len(frames) > 50 and frames[-1].shape == (512, 512, 3)
        # the photo itself (not the basic animator's drawing) and it moves: brightness changes with the voice
        means = np.array([f.mean() for f in frames])
        assert means.max() - means.min() > 5
    finally:
        await client.post(f"/calls/{call_id}/end", headers=auth)
        await peer.close()
