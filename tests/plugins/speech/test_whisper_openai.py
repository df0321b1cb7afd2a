"""The openai-whisper engine's loading and decoding code, run on a tiny randomly initialised checkpoint.

The real checkpoints are for a GPU box and are not on this machine; this proves the engine reads
a checkpoint from weights/, decodes on CPU and ends the stream with one final transcript.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from plugins.whisper.backend import WhisperASR
from server.backends import Readiness
from server.errors import WeightsMissing
from server.media import AudioChunk

whisper = pytest.importorskip("whisper")
torch = pytest.importorskip("torch")


def _random_checkpoint(path: Path) -> None:
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(0)
    dims = ModelDimensions(
        n_mels=80,
        n_audio_ctx=1500,
        n_audio_state=32,
        n_audio_head=2,
        n_audio_layer=1,
        n_vocab=51865,
        n_text_ctx=448,
        n_text_state=32,
        n_text_head=2,
        n_text_layer=1,
    )
    model = Whisper(dims)
    with torch.no_grad():  # some of Whisper's parameters start as torch.empty: give every one a value
        for param in model.parameters():
            param.normal_(0.0, 0.02)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)


async def _chunks(fox: tuple[np.ndarray, int]) -> AsyncIterator[AudioChunk]:
    audio, rate = fox
    audio = np.concatenate([audio, np.zeros(rate // 2, dtype=np.float32)])
    for i in range(0, len(audio), rate // 10):
        yield AudioChunk.from_float(audio[i : i + rate // 10], rate, pts=i)


def test_status_points_at_the_missing_checkpoint(tmp_path: Path) -> None:
    status = WhisperASR.status(tmp_path, {"engine": "openai-whisper", "model": "base"})
    assert status.state is Readiness.MISSING_WEIGHTS
    assert "openai-whisper/base.pt" in status.detail and "memoria weights import base.pt" in status.fix


async def test_missing_checkpoint_fails_at_load(tmp_path: Path) -> None:
    asr = WhisperASR({"engine": "openai-whisper", "model": "base", "device": "cpu"}, weights_dir=tmp_path)
    with pytest.raises(WeightsMissing):
        await asr.load()


@pytest.mark.slow
async def test_random_checkpoint_loads_and_transcribes(tmp_path: Path, fox: tuple[np.ndarray, int]) -> None:
    _random_checkpoint(tmp_path / "openai-whisper" / "tiny-random.pt")
    config = {
        "engine": "openai-whisper",
        "model": "tiny-random",
        "device": "cpu",
        "beam_size": 1,
        "partial_interval_ms": 100000,
    }
    assert WhisperASR.status(tmp_path, config).state is Readiness.READY
    asr = WhisperASR(config, weights_dir=tmp_path)
    try:
        out = [t async for t in asr.transcribe(_chunks(fox), language="en")]
    finally:
        await asr.aclose()
    assert [t.final for t in out].count(True) == 1 and out[-1].final
    assert isinstance(out[-1].text, str)  # random weights: the words are noise, the plumbing is real
