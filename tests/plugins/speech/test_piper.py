"""The Piper voice: streaming, phoneme timings, and a likeness that moves the voice the right way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

pytest.importorskip("piper")
pytest.importorskip("pyworld")
pytest.importorskip("parselmouth")

import itertools

from plugins.piper.backend import PiperVoiceBackend
from plugins.piper.text import pieces
from server.backends import Readiness, VoiceProfile
from server.errors import BadInput
from server.speech.audio_io import write_wav
from server.speech.testing import say, silence
from server.speech.wer import wer

TEXT = "Good morning, my dear. Did you sleep well? I was thinking about the garden today."
SAMPLES = (
    "When I was a young man I used to walk along the river every morning.",
    "Tell me about your week, and whether you are eating properly.",
    "The roses came back every spring, and we sat outside until it got dark.",
)


module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def backend(weights_dir: Path):  # type: ignore[no-untyped-def]
    b = PiperVoiceBackend({"noise_scale": 0.0, "noise_w_scale": 0.0}, weights_dir=weights_dir)  # deterministic
    await b.load()
    yield b
    await b.aclose()


def _median_f0(audio: np.ndarray, rate: int) -> float:
    import parselmouth

    f = (
        parselmouth.Sound(audio.astype(np.float64), rate)
        .to_pitch_ac(pitch_floor=60, pitch_ceiling=500)
        .selected_array["frequency"]
    )
    return float(np.median(f[f > 0]))


def _mean_f2(audio: np.ndarray, rate: int) -> float:
    import parselmouth

    sound = parselmouth.Sound(audio.astype(np.float64), rate)
    formant = sound.to_formant_burg(max_number_of_formants=5, maximum_formant=5000)
    pitch = sound.to_pitch_ac(pitch_floor=60, pitch_ceiling=500)
    values = [formant.get_value_at_time(2, t) for t in pitch.xs() if not np.isnan(pitch.get_value_at_time(t))]
    values = [v for v in values if not np.isnan(v)]
    return float(np.median(values))


def _other_speaker(text: str, pitch: float, formants: float) -> tuple[np.ndarray, int]:
    """Piper's voice made into 'someone else': pitch and formants moved by WORLD."""
    import pyworld as pw

    from plugins.piper import likeness

    audio, rate = say(text)
    frames = likeness.analyze(audio, rate)
    bins = np.arange(frames.sp.shape[1])
    warped = np.array([np.interp(bins / formants, bins, row) for row in frames.sp])
    y = pw.synthesize(frames.f0 * pitch, np.ascontiguousarray(warped), frames.ap, likeness.RATE, likeness.FRAME_MS)
    return y.astype(np.float32), likeness.RATE


def _other_speaker_samples(folder: Path, pitch: float, formants: float) -> tuple[Path, ...]:
    """SAMPLES spoken by `_other_speaker`, as WAV files in `folder`."""
    paths = []
    for i, text in enumerate(SAMPLES):
        audio, rate = _other_speaker(text, pitch, formants)
        write_wav(folder / f"{i}.wav", audio, rate)
        paths.append(folder / f"{i}.wav")
    return tuple(paths)


async def _speak(backend: PiperVoiceBackend, text: str, profile: VoiceProfile) -> tuple[np.ndarray, int, list]:
    chunks = [c async for c in backend.synthesize(text, voice=profile)]
    for before, after in itertools.pairwise(chunks):
        assert after.pts == before.pts + len(before.samples)
    return np.concatenate([c.as_float() for c in chunks]), chunks[0].sample_rate, chunks


def test_status_ready_from_the_package(weights_dir: Path) -> None:
    assert PiperVoiceBackend.status(weights_dir).state is Readiness.READY


def test_long_first_sentence_is_cut_at_a_comma() -> None:
    assert pieces("When I was young, we lived by the sea with my grandmother and the dog. Then we moved.") == [
        "When I was young,",
        "we lived by the sea with my grandmother and the dog.",
        "Then we moved.",
    ]
    assert pieces("Hello there. How are you?") == ["Hello there.", "How are you?"]


@module_loop
async def test_sentences_stream_with_phoneme_timings(backend: PiperVoiceBackend) -> None:
    audio, rate, chunks = await _speak(backend, TEXT, VoiceProfile())
    assert rate == 22050 and len(chunks) == 3  # one chunk per sentence
    timings = [t for c in chunks for t in c.phonemes]
    assert len(timings) > 30
    starts = [t.start for t in timings]
    assert starts == sorted(starts) and all(t.end > t.start for t in timings)
    assert timings[-1].end <= len(audio) / rate + 1e-6
    assert timings[-1].end > 0.8 * len(audio) / rate  # timings span the utterance, not one sentence
    # timings of a later chunk are measured from the start of the utterance, inside that chunk's audio
    last = chunks[-1]
    assert all(last.start - 1e-6 <= t.start <= last.start + last.duration for t in last.phonemes)


@module_loop
@pytest.mark.slow
@pytest.mark.parametrize(("pitch", "formants"), [(1.7, 1.15), (0.8, 0.9)])
async def test_learned_likeness_moves_pitch_and_formants_toward_the_samples(
    backend: PiperVoiceBackend, tmp_path: Path, pitch: float, formants: float
) -> None:
    paths = _other_speaker_samples(tmp_path, pitch, formants)
    learned = await backend.learn(tuple(paths))
    assert learned["method"] == "world-knn"
    plain, plain_rate, _ = await _speak(backend, TEXT, VoiceProfile())
    adapted, rate, chunks = await _speak(backend, TEXT, VoiceProfile(samples=tuple(paths), learned=learned))
    assert chunks[-1].phonemes, "phoneme timings must survive the conversion"
    f0_ratio = _median_f0(adapted, rate) / _median_f0(plain, plain_rate)
    f2_ratio = _mean_f2(adapted, rate) / _mean_f2(plain, plain_rate)
    if pitch > 1:
        assert f0_ratio > 1.4 and f2_ratio > 1.02, (f0_ratio, f2_ratio)
    else:
        assert f0_ratio < 0.93 and f2_ratio < 0.98, (f0_ratio, f2_ratio)


@module_loop
@pytest.mark.slow
async def test_adapted_speech_stays_intelligible(backend: PiperVoiceBackend, weights_dir: Path, tmp_path: Path) -> None:
    from plugins.whisper.backend import WhisperASR
    from server.media import AudioChunk

    paths = _other_speaker_samples(tmp_path, 1.3, 1.08)
    profile = VoiceProfile(samples=tuple(paths), learned=await backend.learn(tuple(paths)))
    texts = ["Do you remember the little house by the river?", "Please tell your brother that I am proud of him."]
    asr = WhisperASR({"model": "base"}, weights_dir=weights_dir)

    async def stream(audio: np.ndarray, rate: int):  # type: ignore[no-untyped-def]
        for i in range(0, len(audio), rate // 5):
            yield AudioChunk.from_float(audio[i : i + rate // 5], rate, pts=i)

    try:
        hyps = []
        for text in texts:
            adapted, rate, _ = await _speak(backend, text, profile)
            assert rate == 16000
            audio = np.concatenate([silence(0.3, rate), adapted, silence(0.6, rate)])
            hyps.append([t async for t in asr.transcribe(stream(audio, rate), language="en")][-1].text)
    finally:
        await asr.aclose()
    assert wer(texts, hyps) <= 0.1, hyps


@module_loop
async def test_a_profile_learned_before_voicing_flags_still_speaks_and_a_newer_one_is_refused(
    backend: PiperVoiceBackend, tmp_path: Path
) -> None:
    from plugins.piper import likeness

    audio, rate = _other_speaker(SAMPLES[0] + " " + SAMPLES[1], 1.6, 1.1)
    write_wav(tmp_path / "s.wav", audio, rate)
    learned = dict(await backend.learn((tmp_path / "s.wav",)))
    assert learned["version"] == likeness.VERSION == 2 and learned["voiced"]
    old = {key: value for key, value in learned.items() if key != "voiced"} | {"version": 1}  # as stored by version 1
    _, rate_old, chunks = await _speak(backend, "Hello there.", VoiceProfile(learned=old))
    assert rate_old == likeness.RATE and chunks[0].phonemes  # adapted, not refused
    with pytest.raises(BadInput, match="re-learn|newer"):
        await _speak(backend, "Hello there.", VoiceProfile(learned=learned | {"version": likeness.VERSION + 1}))


def _model(codes: np.ndarray, voiced: np.ndarray) -> tuple[object, object]:
    """A learned voice made by hand (codebook `codes`, voicing `voiced`) and a source with zero mean."""
    import base64

    from plugins.piper import likeness

    model = likeness.VoiceModel(
        f0_log_mean=float(np.log(150.0)),
        f0_log_std=0.2,
        syllable_rate=4.0,
        envelope_mean=[float(v) for v in codes.mean(axis=0)],
        codebook=base64.b64encode(codes.astype(np.float16).tobytes()).decode("ascii"),
        codebook_size=len(codes),
        seconds=10.0,
        voiced=base64.b64encode(np.packbits(voiced).tobytes()).decode("ascii"),
    )
    source = likeness.SourceStats(
        f0_log_mean=float(np.log(90.0)), f0_log_std=0.2, syllable_rate=4.0, envelope_mean=[0.0] * likeness.DIMS
    )
    return model, source


def test_voiced_frames_are_rebuilt_only_from_the_persons_voiced_frames() -> None:
    from plugins.piper import likeness

    rng = np.random.default_rng(0)
    codes = rng.normal(0, 0.05, (100, likeness.DIMS))
    codes[:50, 1], codes[50:, 1] = 1.0, -1.0  # voiced frames bright, unvoiced ones dark
    voiced = np.arange(100) < 50
    model, source = _model(codes, voiced)
    converter = likeness.Converter(model, source, match_voicing=True)  # type: ignore[arg-type]
    query = np.zeros((5, likeness.DIMS))
    query[:, 1] = -0.8  # nearer the dark (unvoiced) frames, but voiced
    assert np.allclose(converter.map_envelope(query, np.ones(5, bool))[:, 1], 1.0, atol=0.1)
    assert np.allclose(converter.map_envelope(query)[:, 1], -1.0, atol=0.1)  # voicing unknown: nearest wins
    plain = likeness.Converter(model, source)  # type: ignore[arg-type]  # the default matches on the envelope alone
    assert np.allclose(plain.map_envelope(query, np.ones(5, bool))[:, 1], -1.0, atol=0.1)


def test_averaged_envelopes_regain_the_persons_variance() -> None:
    from plugins.piper import likeness

    rng = np.random.default_rng(1)
    codes = rng.normal(0, 1.0, (400, likeness.DIMS))
    model, source = _model(codes, np.ones(400, bool))
    query = rng.normal(0, 1.0, (300, likeness.DIMS))
    flat = likeness.Converter(model, source).map_envelope(query)  # type: ignore[arg-type]
    restored = likeness.Converter(model, source, restore_variance=True).map_envelope(query)  # type: ignore[arg-type]
    person = codes[:, 1:].var(axis=0)
    assert np.median(flat[:, 1:].var(axis=0) / person) < 0.6  # k=4 averages: formants flattened
    assert np.median(restored[:, 1:].var(axis=0) / person) > 0.85


def test_a_pitch_tracker_slip_does_not_become_a_squeak() -> None:
    from plugins.piper import likeness

    model, source = _model(np.random.default_rng(2).normal(0, 1, (50, likeness.DIMS)), np.ones(50, bool))
    converter = likeness.Converter(model, source)  # type: ignore[arg-type]
    track = np.full(60, 95.0)
    track[:10] = 0.0  # unvoiced
    track[30:34] = 400.0  # the tracker reads a creaky stretch two octaves up for 20 ms
    track[40:] = 120.0  # a real rise stays
    f0 = converter.map_f0(track)
    assert np.all(f0[:10] == 0)
    assert np.allclose(f0[30:34], f0[29], rtol=0.01)  # repaired to the local pitch, no squeak
    assert f0[50] > 1.15 * f0[20]
    assert converter.map_f0(np.array([90.0, 2000.0]))[1] < 150.0 * np.exp(likeness.MAX_Z * 0.2) + 1e-6


def test_clearer_styles_soften_the_mapping_and_an_unknown_one_is_refused() -> None:
    import msgspec

    from plugins.piper import likeness

    rng = np.random.default_rng(3)
    codes = rng.normal(0, 1.0, (200, likeness.DIMS))
    model, source = _model(codes, np.ones(200, bool))
    query = rng.normal(0, 1.0, (50, likeness.DIMS))

    def styled(style: str) -> likeness.Converter:
        return likeness.Converter(msgspec.structs.replace(model, style=style), source)  # type: ignore[arg-type]

    average = styled("average").map_envelope(query)
    # The person's average colour only: the source's envelope moved by the difference of the means.
    assert np.allclose(average, query + np.asarray(model.envelope_mean), atol=1e-9)  # type: ignore[attr-defined]
    clear = styled("clear")
    assert clear.blend == likeness.CLEAR_BLEND and clear.restore_variance and clear._key_voiced is not None
    assert styled("knn").blend == 1.0 and not styled("knn").restore_variance
    with pytest.raises(ValueError, match="unknown envelope style"):
        styled("shouty")


@module_loop
async def test_clearer_versions_of_a_likeness_speak_and_keep_the_persons_pitch(
    backend: PiperVoiceBackend, tmp_path: Path
) -> None:
    paths = _other_speaker_samples(tmp_path, 1.7, 1.15)
    learned = await backend.learn(tuple(paths))
    versions = backend.clearer(learned)
    assert [v["style"] for v in versions] == ["clear", "average"] and backend.clearer({}) == []
    plain, plain_rate, _ = await _speak(backend, TEXT, VoiceProfile())
    for version in versions:
        adapted, rate, chunks = await _speak(backend, TEXT, VoiceProfile(samples=tuple(paths), learned=version))
        assert chunks[-1].phonemes
        assert _median_f0(adapted, rate) / _median_f0(plain, plain_rate) > 1.4


@module_loop
async def test_unadapted_voice_stays_available(weights_dir: Path, backend: PiperVoiceBackend, tmp_path: Path) -> None:
    audio, rate = _other_speaker(SAMPLES[0] + " " + SAMPLES[1], 1.6, 1.1)
    write_wav(tmp_path / "s.wav", audio, rate)
    learned = await backend.learn((tmp_path / "s.wav",))
    plain_backend = PiperVoiceBackend({"adapt": False}, weights_dir=weights_dir)
    try:
        _, rate_off, _ = await _speak(plain_backend, "Hello there.", VoiceProfile(learned=learned))
    finally:
        await plain_backend.aclose()
    _, rate_empty, _ = await _speak(backend, "Hello there.", VoiceProfile())
    assert rate_off == rate_empty == 22050  # the bundled voice, untouched


@module_loop
async def test_learning_from_silence_is_a_clear_error(backend: PiperVoiceBackend, tmp_path: Path) -> None:
    write_wav(tmp_path / "quiet.wav", np.zeros(16000, dtype=np.float32), 16000)
    with pytest.raises(BadInput):
        await backend.learn((tmp_path / "quiet.wav",))


@module_loop
async def test_a_foreign_profile_is_rejected(backend: PiperVoiceBackend) -> None:
    with pytest.raises(BadInput):
        async for _ in backend.synthesize("Hello.", voice=VoiceProfile(learned={"method": "xtts-v2-latents"})):
            pass


def test_first_piece_is_cut_at_a_quiet_moment_keeping_audio_and_timings() -> None:
    from plugins.piper.backend import _split_early
    from server.media import PhonemeTiming

    rate = 16000
    t = np.arange(rate * 3) / rate
    audio = (0.5 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    audio[int(0.8 * rate) : int(0.85 * rate)] = 0.0  # a pause between words
    timings = [PhonemeTiming("a", 0.1, 0.5), PhonemeTiming("b", 0.5, 0.8), PhonemeTiming("c", 0.9, 1.5)]
    (head, _, head_t), tail = _split_early((audio, rate, timings))
    assert tail is not None
    tail_audio, _, tail_t = tail
    assert 0.8 <= len(head) / rate <= 0.85
    assert np.array_equal(np.concatenate([head, tail_audio]), audio)
    assert [p.phoneme for p in head_t] == ["a", "b"] and [p.phoneme for p in tail_t] == ["c"]
    assert tail_t[0].start == pytest.approx(0.9 - len(head) / rate)
    short = audio[:rate]
    assert _split_early((short, rate, timings))[1] is None
