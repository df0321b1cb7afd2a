"""The basic backends do what the pipeline relies on, and their fault knobs work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from plugins.basic.backend import BasicAnimator, BasicASR, BasicPersona, BasicVoice
from server.backends import AvatarFace, PersonaSheet, Role, Turn, VoiceProfile
from server.errors import BackendFailure
from server.media import AudioChunk, AvatarState, Emotion

SHEET = PersonaSheet(
    name="Ann", relationship="mother", user_name="Tom", memories=("we baked bread on Sundays", "the sea at Whitby")
)


async def stream(chunks: list[AudioChunk]) -> AsyncIterator[AudioChunk]:
    for chunk in chunks:
        yield chunk


async def test_the_voice_sounds_like_syllables_with_timings() -> None:
    chunks = [c async for c in BasicVoice().synthesize("Hello there. How are you?", voice=VoiceProfile())]
    audio = np.concatenate([c.samples for c in chunks]).astype(np.float32) / 32768
    assert all(c.sample_rate == 22050 for c in chunks)
    assert [c.pts for c in chunks] == list(np.cumsum([0] + [len(c.samples) for c in chunks[:-1]]))
    envelope = np.sqrt(np.convolve(audio**2, np.ones(441) / 441, mode="same"))
    assert envelope.max() > 0.1 and (envelope < 0.01).mean() > 0.15  # loud syllables and real pauses
    phonemes = [p for c in chunks for p in c.phonemes]
    assert phonemes[0].phoneme == "h" and all(p.end > p.start for p in phonemes)
    assert phonemes[-1].end <= len(audio) / 22050


async def test_the_persona_answers_from_the_sheet_and_labels_the_feeling() -> None:
    persona = BasicPersona()
    history = [Turn(Role.USER, "I miss you so much")]
    deltas = [d async for d in persona.respond(history, persona=SHEET)]
    text = "".join(d.text for d in deltas)
    assert "Tom" in text and "bread" in text
    assert deltas[0].emotion is Emotion.SAD
    second = "".join(
        [
            d.text
            async for d in persona.respond([*history, Turn(Role.AVATAR, text), Turn(Role.USER, "and?")], persona=SHEET)
        ]
    )
    assert "Whitby" in second


async def test_the_asr_measures_speech_or_reads_its_script() -> None:
    t = np.arange(16000) / 16000
    loud = AudioChunk.from_float(0.3 * np.sin(2 * np.pi * 200 * t), 16000)
    quiet = AudioChunk(samples=np.zeros(8000, np.int16), sample_rate=16000, pts=16000)
    results = [r async for r in BasicASR().transcribe(stream([loud, quiet]))]
    assert results[-1].final and results[-1].text == "[speech 1.0 s]"
    scripted = BasicASR({"script": ["first", "second"]})
    assert [(await _final(scripted, [loud])) for _ in range(3)] == ["first", "second", "first"]


async def _final(asr: BasicASR, chunks: list[AudioChunk]) -> str:
    return [r async for r in asr.transcribe(stream(chunks))][-1].text


async def test_the_animator_opens_the_mouth_with_the_voice_one_frame_per_40_ms(tmp_path: Path) -> None:
    from PIL import Image

    img = np.full((200, 200, 3), 180, np.uint8)
    Image.fromarray(img).save(tmp_path / "p.png")
    face = AvatarFace(photo=tmp_path / "p.png", size=(96, 96))
    silence = AudioChunk(samples=np.zeros(4800, np.int16), sample_rate=48000, pts=48000)
    t = np.arange(4800) / 48000
    voiced = AudioChunk.from_float(0.3 * np.sin(2 * np.pi * 150 * t), 48000, pts=52800)
    frames = [
        f async for f in BasicAnimator().animate(stream([silence, voiced]), avatar=face, state=AvatarState.SPEAKING)
    ]
    assert [f.index for f in frames] == list(range(25, 25 + 5))  # 0.2 s from 1.0 s on: frames 25..29
    assert frames[0].image.shape == (96, 96, 3)
    still = frames[0].image.astype(int)
    assert (
        np.abs(frames[-1].image.astype(int) - still).mean()
        > 5 * np.abs(frames[1].image.astype(int) - still).mean() + 0.5
    )


@pytest.mark.parametrize("backend", ["voice", "persona"])
async def test_fault_knobs_fail_mid_stream(backend: str) -> None:
    produced = 0
    with pytest.raises(BackendFailure):
        if backend == "voice":
            async for _ in BasicVoice({"fake_exception_after": 2}).synthesize(
                "one two three four five six", voice=VoiceProfile()
            ):
                produced += 1
        else:
            async for _ in BasicPersona({"fake_exception_after": 2}).respond([Turn(Role.USER, "hi")], persona=SHEET):
                produced += 1
    assert produced == 2
