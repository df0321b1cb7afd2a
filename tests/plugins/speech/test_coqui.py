"""Coqui XTTS: what `memoria plugins` says when things are missing, and the loading/streaming code
run against a stand-in `TTS` package with the same API (coqui-tts cannot import on CPU-only torch)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from plugins.coqui.backend import FILES, MODEL_DIR, XTTSVoiceBackend
from server.backends import Readiness, VoiceProfile
from server.errors import BadInput, DependencyMissing, WeightsMissing

FAKE_XTTS = """
import threading
import torch

CALLS = {"stream": 0, "chunks": 0, "stopped": threading.Event()}


class Xtts(torch.nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.proj = torch.nn.Linear(4, 4)  # a small randomly initialised layer stands in for the network
        self.loaded_from = None

    @classmethod
    def init_from_config(cls, config):
        return cls(config)

    def load_checkpoint(self, config, checkpoint_dir, use_deepspeed=False, eval=True):
        import os
        state = torch.load(os.path.join(checkpoint_dir, "model.pth"))
        self.proj.load_state_dict(state)
        self.loaded_from = checkpoint_dir

    def get_conditioning_latents(self, audio_path):
        seed = sum(len(p) for p in audio_path)
        g = torch.Generator().manual_seed(seed)
        return torch.randn(1, 32, 1024, generator=g), torch.randn(1, 512, 1, generator=g)

    def inference_stream(self, text, language, gpt_cond_latent, speaker_embedding, stream_chunk_size=20, temperature=0.75):
        assert gpt_cond_latent.shape == (1, 32, 1024) and speaker_embedding.shape == (1, 512, 1)
        CALLS["stream"] += 1
        try:
            for i in range(len(text.split()) * 2):
                CALLS["chunks"] += 1
                yield torch.full((4800,), 0.1 * ((i % 3) - 1))
        finally:
            CALLS["stopped"].set()
"""

FAKE_CONFIG = """
import json

class XttsConfig:
    def load_json(self, path):
        self.data = json.load(open(path))
"""


@pytest.fixture()
def fake_tts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    root = tmp_path / "fake_site"
    files = {
        "TTS/__init__.py": "",
        "TTS/tts/__init__.py": "",
        "TTS/tts/configs/__init__.py": "",
        "TTS/tts/configs/xtts_config.py": FAKE_CONFIG,
        "TTS/tts/models/__init__.py": "",
        "TTS/tts/models/xtts.py": FAKE_XTTS,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(root))
    for name in [m for m in sys.modules if m == "TTS" or m.startswith("TTS.")]:
        monkeypatch.delitem(sys.modules, name)
    yield root
    for name in [m for m in sys.modules if m == "TTS" or m.startswith("TTS.")]:
        del sys.modules[name]


def _checkpoint(weights_dir: Path) -> None:
    import torch

    folder = weights_dir / MODEL_DIR
    folder.mkdir(parents=True)
    torch.save(torch.nn.Linear(4, 4).state_dict(), folder / "model.pth")
    (folder / "config.json").write_text('{"model": "xtts"}')
    (folder / "vocab.json").write_text("{}")
    (folder / "speakers_xtts.pth").write_bytes(b"")


def test_status_says_what_to_install_when_the_package_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.backends import base

    monkeypatch.setattr(base, "importable", lambda m: m != "TTS")
    status = XTTSVoiceBackend.status(tmp_path)
    assert status.state is Readiness.MISSING_DEPENDENCY
    assert "coqui-tts" in status.fix and "TTS" in status.detail


def test_status_says_which_files_go_where(tmp_path: Path, fake_tts: Path) -> None:
    status = XTTSVoiceBackend.status(tmp_path)
    assert status.state is Readiness.MISSING_WEIGHTS
    assert str(tmp_path / MODEL_DIR) in status.detail
    assert all(name in status.detail for name in FILES)
    assert "memoria weights import" in status.fix


async def test_load_without_weights_is_weights_missing(tmp_path: Path, fake_tts: Path) -> None:
    backend = XTTSVoiceBackend({"device": "cpu"}, weights_dir=tmp_path)
    with pytest.raises(WeightsMissing):
        await backend.load()


async def test_load_reports_an_unimportable_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    _checkpoint(tmp_path)
    monkeypatch.setitem(sys.modules, "TTS", None)  # what a torchaudio mismatch looks like: ImportError
    with pytest.raises(DependencyMissing, match="coqui-tts"):
        await XTTSVoiceBackend({"device": "cpu"}, weights_dir=tmp_path).load()


async def test_learn_then_stream_with_a_small_random_checkpoint(tmp_path: Path, fake_tts: Path) -> None:
    _checkpoint(tmp_path)
    assert XTTSVoiceBackend.status(tmp_path).state is Readiness.READY
    sample = tmp_path / "voice.wav"
    sample.write_bytes(b"RIFF")
    backend = XTTSVoiceBackend({"device": "cpu"}, weights_dir=tmp_path)
    try:
        learned = await backend.learn((sample,))
        assert learned["method"] == "xtts-v2-latents"
        assert learned["gpt_cond_latent"]["shape"] == [1, 32, 1024]
        chunks = [c async for c in backend.synthesize("one two three", voice=VoiceProfile(learned=learned))]
        assert len(chunks) == 6 and all(c.sample_rate == 24000 for c in chunks)
        assert [c.pts for c in chunks] == [i * 4800 for i in range(6)]
        assert np.allclose(chunks[1].as_float(), 0.0, atol=1e-3)  # the model's audio, unchanged
        # without stored latents it clones from the samples directly
        again = [c async for c in backend.synthesize("four", voice=VoiceProfile(samples=(sample,)))]
        assert len(again) == 2
    finally:
        await backend.aclose()
        await backend.aclose()


async def test_stopping_early_stops_generation(tmp_path: Path, fake_tts: Path) -> None:
    _checkpoint(tmp_path)
    sample = tmp_path / "voice.wav"
    sample.write_bytes(b"RIFF")
    backend = XTTSVoiceBackend({"device": "cpu"}, weights_dir=tmp_path)
    try:
        stream = backend.synthesize(" ".join(["word"] * 200), voice=VoiceProfile(samples=(sample,)))
        async for _ in stream:
            break
        await stream.aclose()
        from TTS.tts.models import xtts  # the stand-in, to read what it saw

        assert xtts.CALLS["stopped"].wait(2.0)
        assert xtts.CALLS["chunks"] < 400
    finally:
        await backend.aclose()


async def test_cloning_needs_samples(tmp_path: Path, fake_tts: Path) -> None:
    _checkpoint(tmp_path)
    backend = XTTSVoiceBackend({"device": "cpu"}, weights_dir=tmp_path)
    with pytest.raises(BadInput):
        async for _ in backend.synthesize("hello", voice=VoiceProfile()):
            pass
