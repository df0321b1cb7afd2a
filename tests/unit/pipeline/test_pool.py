"""Backends stay loaded between calls, one call at a time per instance, and close at shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.errors import ConfigError
from server.pipeline.backends import BackendPool
from server.registry import Registry, RegistryFile


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    file = RegistryFile(
        plugins={"modules": ["plugins.basic"]},
        defaults={"asr": "basic-asr", "persona": "basic-persona", "voice": "basic-voice", "animator": "basic-animator"},
    )
    registry = Registry(file, weights_dir=tmp_path)
    registry.load(entry_points=False)
    return registry


async def test_a_second_call_reuses_the_loaded_backends(registry: Registry) -> None:
    pool = BackendPool(registry)
    first = await pool.acquire()
    assert first.loaded
    await first.aclose()
    await first.aclose()  # idempotent: returned once
    second = await pool.acquire()
    assert second.all == first.all
    assert not any(b.closed for b in second.all)


async def test_concurrent_calls_get_their_own_instances_and_shutdown_closes_them(registry: Registry) -> None:
    pool = BackendPool(registry)
    one, two = await pool.acquire(), await pool.acquire()
    assert not set(one.all) & set(two.all)
    await one.aclose()
    await two.aclose()
    await pool.aclose()
    assert all(b.closed for b in (*one.all, *two.all))


async def test_an_unknown_backend_name_fails_and_leaves_the_pool_intact(registry: Registry) -> None:
    pool = BackendPool(registry)
    good = await pool.acquire()
    await good.aclose()
    with pytest.raises(ConfigError):
        await pool.acquire({"voice": "no-such-voice"})
    assert (await pool.acquire()).all == good.all
