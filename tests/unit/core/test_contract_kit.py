"""`check_backend` catches each broken rule and names it: what a plugin author relies on."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from plugins.basic.backend import BasicAnimator, BasicVoice
from server.backends import AnimatorBackend, BackendInfo, BackendKind, VoiceBackend, WeightSpec
from server.media import AudioChunk, VideoFrame
from server.testing import ContractViolation, check_backend


class ShortAnimator(AnimatorBackend):
    """One frame too few per 40 ms: 20 frames for a second of audio."""

    info = BackendInfo(name="short-animator", kind=BackendKind.ANIMATOR)

    async def animate(self, audio: AsyncIterable[AudioChunk], **_: Any) -> AsyncIterator[VideoFrame]:
        index = 0
        async for _ in audio:
            if index < 20:
                yield VideoFrame(np.zeros((8, 8, 3), np.uint8), index=index)
                index += 1


class GapVoice(VoiceBackend):
    """Chunks with a gap in sample time."""

    info = BackendInfo(name="gap-voice", kind=BackendKind.VOICE)

    async def synthesize(self, text: str, *, voice: Any) -> AsyncIterator[AudioChunk]:
        for pts in (0, 16000):
            yield AudioChunk(np.zeros(8000, np.int16), 16000, pts=pts)


class SilentlyMissing(VoiceBackend):
    """Needs a file that is not there, and its status offers no fix."""

    info = BackendInfo(name="silently-missing", kind=BackendKind.VOICE, weights=(WeightSpec(path="nowhere/model.bin"),))

    @classmethod
    def status(cls, weights_dir: Path, config: Any = None) -> Any:
        status = super().status(weights_dir, config)
        return type(status)(status.state, detail=status.detail, fix="")

    async def synthesize(self, text: str, *, voice: Any) -> AsyncIterator[AudioChunk]:  # pragma: no cover
        yield AudioChunk(np.zeros(1, np.int16), 16000, pts=0)


async def test_a_backend_that_keeps_the_contract_passes() -> None:
    report = await check_backend(BasicAnimator)
    assert report.ran and report.items == 25
    assert (await check_backend(BasicVoice)).items > 0


@pytest.mark.parametrize(
    ("cls", "rule"),
    [
        (ShortAnimator, "one second of audio gives 25 frames"),
        (GapVoice, "contiguous"),
        (SilentlyMissing, "does not say what fixes it"),
    ],
)
async def test_each_broken_rule_is_named(cls: type, rule: str) -> None:
    with pytest.raises(ContractViolation, match=rule) as caught:
        await check_backend(cls, weights_dir=Path("/nonexistent"))
    assert cls.info.name in str(caught.value)


async def test_a_backend_that_is_not_ready_can_be_required_to_be() -> None:
    class NeedsFile(BasicVoice):
        info = BackendInfo(name="needs-file", kind=BackendKind.VOICE, weights=(WeightSpec(path="x/y.bin"),))

    report = await check_backend(NeedsFile, weights_dir=Path("/nonexistent"))
    assert not report.ran and report.status.fix
    with pytest.raises(ContractViolation, match="not ready"):
        await check_backend(NeedsFile, weights_dir=Path("/nonexistent"), require_ready=True)
