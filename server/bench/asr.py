"""`memoria bench asr DIR`: word error rate and latency of the ASR on NAME.wav + NAME.txt pairs.

Each file is replayed in real time in 20 ms chunks, as a call would deliver it. A VAD endpointer
(the one the call pipeline uses) ends the utterance after `--silence-ms` of quiet; silence is
appended when a file ends before that. `final_after_end_ms` runs from the end of speech (the last
voiced sample, as the endpointer places it) to the final transcript, so it includes the endpointer's
wait: that is the delay a user feels. `final_after_endpoint_ms` counts only the ASR's own part,
from the endpoint (the end of the stream the ASR sees).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import click
import numpy as np

from server.pipeline.session import SessionConfig

CHUNK_MS = 20
# A call transcribes the utterance once the user has been quiet this long (and prepares the reply
# unseen; it is committed if they stay quiet): the same threshold makes the figure the call's.
CALL_PAUSE_MS = float(SessionConfig().speculate_ms)


@click.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--backend", "backend_name", default="whisper", show_default=True)
@click.option("--model", default=None, help="Override [config.whisper] model (base, tiny.en).")
@click.option(
    "--silence-ms",
    default=CALL_PAUSE_MS,
    show_default=True,
    help="Quiet that ends an utterance (the call's speculate_ms).",
)
@click.option("--language", default="en", show_default=True)
@click.option("--fast", is_flag=True, help="Feed audio as fast as possible (no latency figures).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(
    directory: Path, backend_name: str, model: str | None, silence_ms: float, language: str, fast: bool, as_json: bool
) -> None:
    """WER, real-time factor and final-transcript latency over DIRECTORY/*.wav with *.txt."""
    pairs = sorted(
        (wav, wav.with_suffix(".txt")) for wav in directory.glob("*.wav") if wav.with_suffix(".txt").is_file()
    )
    if not pairs:
        raise click.ClickException(f"no NAME.wav + NAME.txt pairs in {directory}")
    result = asyncio.run(_run(pairs, backend_name, model, silence_ms, language, fast, verbose=not as_json))
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            if key != "per_file":
                click.echo(f"{key}: {value}")


def _backend(name: str, model: str | None) -> Any:
    from server.backends import BackendKind
    from server.registry import Registry
    from server.settings import load_settings

    settings = load_settings()
    try:
        registry = Registry.from_file(settings.registry_file, weights_dir=settings.weights_dir)
        config = registry.config_for(name)
        cls = registry.entry(BackendKind.ASR, name).cls
    except Exception:  # noqa: BLE001 - the bench still runs the bundled plugin without a registry entry
        from plugins.whisper.backend import WhisperASR

        cls, config = WhisperASR, {}
    if model:
        config["model"] = model
    return cls(config, weights_dir=settings.weights_dir)


async def _run(
    pairs: list[tuple[Path, Path]],
    name: str,
    model: str | None,
    silence_ms: float,
    language: str,
    fast: bool,
    *,
    verbose: bool,
) -> dict[str, Any]:
    from server.speech.audio_io import read_audio
    from server.speech.wer import wer

    backend = _backend(name, model)
    await backend.load()
    refs, hyps, after_end, after_speech, audio_s, compute_s = [], [], [], [], 0.0, 0.0
    per_file = []
    try:
        await _replay(backend, np.zeros(16000, dtype=np.float32), 16000, language, silence_ms, fast=True)  # warm-up
        for wav, txt in pairs:
            audio, rate = read_audio(wav)
            t0 = time.perf_counter()
            text, _, _ = await _replay(backend, audio, rate, language, silence_ms, fast=True)
            compute_s += time.perf_counter() - t0
            audio_s += len(audio) / rate
            if not fast:
                text, end_ms, speech_ms = await _replay(backend, audio, rate, language, silence_ms, fast=False)
                after_end.append(end_ms)
                after_speech.append(speech_ms)
            ref = txt.read_text(encoding="utf-8").strip()
            refs.append(ref)
            hyps.append(text)
            per_file.append({"file": wav.name, "ref": ref, "hyp": text})
            if verbose:
                click.echo(f"{wav.name}: {text!r}  (ref {ref!r})", err=True)
    finally:
        await backend.aclose()
    return {
        "wer": round(wer(refs, hyps), 4),
        "rtf": round(compute_s / max(audio_s, 1e-9), 3),
        "files": len(pairs),
        "final_after_end_ms": round(statistics.median(after_speech), 1) if after_speech else None,
        "final_after_end_ms_max": round(max(after_speech), 1) if after_speech else None,
        "final_after_endpoint_ms": round(statistics.median(after_end), 1) if after_end else None,
        "silence_ms": silence_ms,
        "backend": name,
        "per_file": per_file,
    }


async def _replay(
    backend: Any, audio: np.ndarray, rate: int, language: str, silence_ms: float, *, fast: bool
) -> tuple[str, float, float]:
    """Stream one file (plus silence until the endpoint); returns (final text, ms after endpoint, ms after speech end)."""
    from server.media import AudioChunk
    from server.speech.vad import VadEndpointer, VadEventKind

    step = rate * CHUNK_MS // 1000
    padded = np.concatenate([audio, np.zeros(int(rate * (silence_ms / 1000 + 1.0)), dtype=np.float32)])
    endpointer = VadEndpointer(silence_ms=silence_ms)
    marks: dict[str, float] = {}

    async def chunks() -> AsyncIterator[AudioChunk]:
        start = time.perf_counter()
        heard = False
        for pts in range(0, len(padded), step):
            if not fast:
                delay = start + pts / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            chunk = AudioChunk.from_float(padded[pts : pts + step], rate, pts=pts)
            yield chunk
            for event in endpointer.feed(chunk):
                if event.kind is VadEventKind.SPEECH_START:
                    heard = True
                elif heard:
                    marks["speech_end_wall"] = start + event.time
                    marks["end"] = time.perf_counter()
                    return
            if pts >= len(audio) and not heard:
                break  # no speech at all
        marks["end"] = time.perf_counter()

    final = ""
    async for transcript in backend.transcribe(chunks(), language=language):
        if transcript.final:
            final = transcript.text
    done = time.perf_counter()
    end = marks.get("end", done)
    speech_end = marks.get("speech_end_wall", end)
    return final, (done - end) * 1000, (done - speech_end) * 1000
