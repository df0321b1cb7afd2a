"""`memoria bench voice --target DIR`: likeness, intelligibility and speed of the voice.

DIR holds several recordings of one speaker. The bench learns the voice from the first two thirds
(sorted by name) and keeps the rest back. `similarity` is the mean cosine between resemblyzer
speaker embeddings of the adapted output and of each held-back recording; `baseline_similarity`
the same for the unadapted voice. `intelligibility_wer` is Whisper reading all the adapted output
back (about 100 words). `first_audio_ms` is the median time to the first chunk of a one-sentence
reply; `rtf` is synthesis time over audio time for the paragraphs, likeness included.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

# What an avatar says: paragraphs of everyday sentences, 6-10 s each like the held-back clips.
PARAGRAPHS = (
    "Good morning, my dear. Did you sleep well? I was thinking about the garden today, and how the roses came back every spring.",
    "When you were little, you used to hide under the kitchen table and laugh until we found you. I still remember that sound.",
    "Tell me about your week. Are you eating properly, and are you seeing your friends? You know I always worry about you.",
)
SENTENCES = (
    "I missed you so much.",
    "Do you remember the summer we spent by the lake?",
    "Your father would have been very proud of you, you know.",
    "Let me tell you a story about the day you were born.",
    "It is good to hear your voice again.",
)


@click.command()
@click.option(
    "--target",
    "target",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="Recordings of one speaker.",
)
@click.option("--backend", "backend_name", default="piper", show_default=True)
@click.option("--asr", "asr_name", default="whisper", show_default=True, help="ASR backend that reads the output back.")
@click.option(
    "--save", type=click.Path(file_okay=False, path_type=Path), default=None, help="Write the synthesised WAVs here."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(target: Path, backend_name: str, asr_name: str, save: Path | None, as_json: bool) -> None:
    """Speaker similarity (adapted vs unadapted), first-audio latency, RTF and intelligibility."""
    files = sorted(p for p in target.iterdir() if p.suffix.lower() in {".wav", ".flac", ".mp3", ".ogg", ".m4a"})
    if len(files) < 2:
        raise click.ClickException(f"{target} needs at least two recordings (some to learn from, some to hold back)")
    result = asyncio.run(_run(files, backend_name, asr_name, save))
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key}: {value}")


def _encoder() -> Any:
    try:
        from resemblyzer import VoiceEncoder
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"the similarity metric needs resemblyzer and torch ({exc.name} missing): pip install -e '.[bench]'"
        ) from exc
    return VoiceEncoder("cpu", verbose=False)


def _embed(encoder: Any, audio: np.ndarray, rate: int) -> np.ndarray:
    from resemblyzer import preprocess_wav

    from server.speech.resample import resample

    return np.asarray(encoder.embed_utterance(preprocess_wav(resample(audio, rate, 16000), 16000)))


def _create(kind: str, name: str) -> Any:
    from server.backends import BackendKind
    from server.registry import Registry
    from server.settings import load_settings

    settings = load_settings()
    try:
        registry = Registry.from_file(settings.registry_file, weights_dir=settings.weights_dir)
        return registry.create(BackendKind(kind), name)
    except Exception:
        if name == "piper":
            from plugins.piper.backend import PiperVoiceBackend

            return PiperVoiceBackend({}, weights_dir=settings.weights_dir)
        if name == "whisper":
            from plugins.whisper.backend import WhisperASR

            return WhisperASR({}, weights_dir=settings.weights_dir)
        raise


async def _speak(backend: Any, text: str, profile: Any) -> tuple[np.ndarray, int, float, float]:
    """(audio, rate, seconds to first chunk, total seconds)."""
    start = time.perf_counter()
    first = 0.0
    parts: list[np.ndarray] = []
    rate = 0
    async for chunk in backend.synthesize(text, voice=profile):
        if not parts:
            first = time.perf_counter() - start
        parts.append(chunk.as_float())
        rate = chunk.sample_rate
    return np.concatenate(parts), rate, first, time.perf_counter() - start


async def _read_back(asr: Any, audio: np.ndarray, rate: int) -> str:
    from server.media import AudioChunk

    async def chunks() -> Any:
        step = rate // 5
        for i in range(0, len(audio), step):
            yield AudioChunk.from_float(audio[i : i + step], rate, pts=i)
        yield AudioChunk.from_float(np.zeros(rate // 2, dtype=np.float32), rate, pts=len(audio))

    text = ""
    async for t in asr.transcribe(chunks(), language="en"):
        if t.final:
            text = t.text
    return text


async def _run(files: list[Path], backend_name: str, asr_name: str, save: Path | None) -> dict[str, Any]:
    from server.backends import VoiceProfile
    from server.speech.audio_io import read_audio, write_wav
    from server.speech.wer import wer

    n_adapt = max(1, round(len(files) * 2 / 3))
    adapt, held = files[:n_adapt], files[n_adapt:]
    encoder = _encoder()
    held_emb = [_embed(encoder, *read_audio(p)) for p in held]
    backend = _create("voice", backend_name)
    asr = _create("asr", asr_name)
    await backend.load()
    await asr.load()
    try:
        t0 = time.perf_counter()
        learned = await backend.learn(tuple(adapt))
        learn_s = time.perf_counter() - t0
        profiles = {"adapted": VoiceProfile(samples=tuple(adapt), learned=learned), "baseline": VoiceProfile()}
        await _speak(backend, "Hello there.", profiles["adapted"])  # warm-up
        sims: dict[str, list[float]] = {"adapted": [], "baseline": []}
        refs, hyps = [], []
        synth_s = audio_s = 0.0
        for name, profile in profiles.items():
            for i, text in enumerate(PARAGRAPHS):
                audio, rate, _, total = await _speak(backend, text, profile)
                emb = _embed(encoder, audio, rate)
                sims[name].append(float(np.mean([emb @ h for h in held_emb])))
                if name == "adapted":
                    synth_s += total
                    audio_s += len(audio) / rate
                    refs.append(text)
                    hyps.append(await _read_back(asr, audio, rate))
                if save is not None:
                    write_wav(save / f"{name}_{i}.wav", audio, rate)
        firsts: dict[str, list[float]] = {"adapted": [], "baseline": []}
        for name, profile in profiles.items():
            for text in SENTENCES:
                audio, rate, first, _ = await _speak(backend, text, profile)
                firsts[name].append(first * 1000)
                if name == "adapted":  # more words read back: a steadier intelligibility figure
                    refs.append(text)
                    hyps.append(await _read_back(asr, audio, rate))
    finally:
        await backend.aclose()
        await asr.aclose()
    return {
        "similarity": round(float(np.mean(sims["adapted"])), 4),
        "baseline_similarity": round(float(np.mean(sims["baseline"])), 4),
        "first_audio_ms": round(statistics.median(firsts["adapted"]), 1),
        "baseline_first_audio_ms": round(statistics.median(firsts["baseline"]), 1),
        "rtf": round(synth_s / max(audio_s, 1e-9), 3),
        "intelligibility_wer": round(wer(refs, hyps), 4),
        "learn_s": round(learn_s, 2),
        "adapted_on": [p.name for p in adapt],
        "held_back": [p.name for p in held],
        "read_back": hyps,
    }
