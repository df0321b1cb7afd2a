"""The clarity check after learning, with the real default voice and recogniser."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("piper")
pytest.importorskip("faster_whisper")

from plugins.piper.backend import PiperVoiceBackend
from plugins.whisper.backend import WhisperASR
from server.domain.media.voice_check import clearest

from .test_piper import _other_speaker_samples


@pytest.mark.slow
async def test_a_sound_likeness_passes_and_the_plain_voice_reads_back_cleanly(
    weights_dir: Path, tmp_path: Path
) -> None:
    voice = PiperVoiceBackend({"noise_scale": 0.0, "noise_w_scale": 0.0}, weights_dir=weights_dir)
    asr = WhisperASR({"model": "base"}, weights_dir=weights_dir)
    try:
        await voice.load()
        paths = _other_speaker_samples(tmp_path, 0.85, 0.95)
        learned = await voice.learn(tuple(paths))
        kept, result = await clearest(voice, asr, tuple(paths), learned)
    finally:
        await voice.aclose()
        await asr.aclose()
    assert result.plain_wer == 0.0
    assert kept is learned and not result.unclear and result.learned_wer <= 0.15, result
