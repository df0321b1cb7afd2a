"""One pool of loaded backends: reused between calls and jobs, one user at a time per instance,
a backend that failed is closed instead of reused, and everything closes once at shutdown."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from plugins.basic.backend import BasicASR, BasicVoice
from server.backends import BackendKind, VoiceBackend, VoiceProfile
from server.errors import BackendFailure, ConfigError
from server.pipeline.backends import CallBackends
from server.pool import BackendPool
from server.registry import Registry, RegistryFile

BASIC = {"asr": "basic-asr", "persona": "basic-persona", "voice": "basic-voice", "animator": "basic-animator"}


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    file = RegistryFile(plugins={"modules": ["plugins.basic"]}, defaults=dict(BASIC))
    registry = Registry(file, weights_dir=tmp_path)
    registry.load(entry_points=False)
    return registry


def names(registry: Registry, **overrides: str) -> dict[BackendKind, str]:
    return registry.resolve_all(overrides)


async def test_borrowing_is_typed_and_a_second_borrow_reuses_the_loaded_backend(registry: Registry) -> None:
    pool = BackendPool(registry)
    async with pool.borrow(VoiceBackend, "basic-voice") as voice:
        assert isinstance(voice, BasicVoice)
        first = voice
    async with pool.borrow(VoiceBackend) as again:  # the registry's default
        assert again is first and not again.closed
    async with pool.borrow(BackendKind.ASR) as asr:
        assert isinstance(asr, BasicASR)


async def test_a_second_call_reuses_the_loaded_backends(registry: Registry) -> None:
    pool = BackendPool(registry)
    first = await CallBackends.borrow(pool, names(registry))
    assert first.loaded
    await first.aclose()
    await first.aclose()  # idempotent: given back once
    second = await CallBackends.borrow(pool, names(registry))
    assert second.all == first.all
    assert not any(b.closed for b in second.all)


async def test_concurrent_users_get_their_own_instances_and_shutdown_closes_them(registry: Registry) -> None:
    pool = BackendPool(registry)
    one, two = await CallBackends.borrow(pool, names(registry)), await CallBackends.borrow(pool, names(registry))
    assert not set(one.all) & set(two.all)
    await one.aclose()
    await two.aclose()
    await pool.aclose()
    await pool.aclose()  # closed once: the second close finds nothing to close
    assert all(b.closed for b in (*one.all, *two.all))


async def test_a_backend_that_raised_in_a_call_is_closed_not_reused(registry: Registry) -> None:
    registry.configure("basic-voice", fake_exception_after=0)
    pool = BackendPool(registry)
    call = await CallBackends.borrow(pool, names(registry))
    broken = call.voice
    with pytest.raises(BackendFailure):
        [chunk async for chunk in call.synthesize("Hello.", voice=VoiceProfile())]
    await call.aclose()
    assert broken.closed
    fresh = await CallBackends.borrow(pool, names(registry))
    assert fresh.voice is not broken
    assert fresh.asr is call.asr  # the healthy ones went back to the pool


async def test_a_backend_that_raised_while_borrowed_is_closed(registry: Registry) -> None:
    pool = BackendPool(registry)
    with pytest.raises(RuntimeError):
        async with pool.borrow(VoiceBackend) as voice:
            raise RuntimeError("the model crashed")
    assert voice.closed
    async with pool.borrow(VoiceBackend) as other:
        assert other is not voice


async def test_close_errors_are_logged_with_the_backend_name(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    pool = BackendPool(registry)
    async with pool.borrow(VoiceBackend) as voice:
        pass

    async def broken_close() -> None:
        raise OSError("device busy")

    voice.aclose = broken_close  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR):
        await pool.aclose()
    assert "basic-voice" in caplog.text and "device busy" in caplog.text


async def test_an_unknown_backend_name_fails_and_leaves_the_pool_intact(registry: Registry) -> None:
    pool = BackendPool(registry)
    good = await CallBackends.borrow(pool, names(registry))
    await good.aclose()
    with pytest.raises(ConfigError):
        await CallBackends.borrow(pool, names(registry, voice="no-such-voice"))
    assert (await CallBackends.borrow(pool, names(registry))).all == good.all
