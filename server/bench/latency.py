"""`memoria bench latency`: several turns and barge-ins over loopback WebRTC with the default backends.

Prints p50_ms / p95_ms (end of the user's speech -> first avatar audio at the client),
late_frames_pct (frames the server sent more than a frame period late or without a rendered
face), av_offset_ms (how much later the face moves than the voice, at the client) and barge_in_ms
(the user starts talking -> the avatar's audio stops at the client, median).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

import click
import msgspec
import numpy as np

from server.cli.common import friendly_errors, settings_and_registry

RATE = 48000


def user_speech(seconds: float, *, f0: float = 140.0, seed: int = 0) -> np.ndarray:
    """A voiced syllable train standing in for a person talking (int16, 48 kHz)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = f0 * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(1.5, 3.0) * t))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * rng.uniform(3.5, 5.0) * t) ** 2
    return (np.clip(0.3 * voiced * syllables / 1.5, -1, 1) * 32767).astype(np.int16)


QUESTIONS = (
    "Do you remember the bread we baked on Sundays?",
    "I got the job I told you about.",
    "How are you feeling today?",
    "I miss you so much, Grandma.",
)


def spoken_questions() -> list[tuple[np.ndarray, int]]:
    """Real words in the bundled voice, cut at the last loud sample: the clock starts at the end of speech."""
    from server.speech.testing import say

    spoken = []
    for text in QUESTIONS:
        audio, rate = say(text)
        loud = np.nonzero(np.abs(audio) > 0.02)[0]
        audio = audio[: loud[-1] + 1] if len(loud) else audio
        spoken.append(((np.clip(audio, -1, 1) * 32767).astype(np.int16), rate))
    return spoken


def bench_photo(folder: Path) -> Path:
    from server.cli.demo import demo_photo

    path = folder / "face.jpg"
    path.write_bytes(demo_photo())
    return path


async def run(
    turns: int, barge_ins: int, say: tuple[Path, ...], session: dict[str, int] | None = None
) -> dict[str, Any]:
    from server.backends import AvatarFace, PersonaSheet
    from server.cli.call import load_turns
    from server.domain.calls.manager import CallManager
    from server.pipeline.backends import CallAvatar
    from server.pipeline.session import SessionConfig
    from server.rtc import measure
    from server.rtc.loopback import LoopbackCall

    settings, registry = settings_and_registry()
    settings = settings.with_changes(loopback_only=True)
    spoken = [(s, r) for s, r, _ in load_turns(say)] or spoken_questions()
    with tempfile.TemporaryDirectory(prefix="memoria-bench-") as folder:
        avatar = CallAvatar(
            face=AvatarFace(photo=bench_photo(Path(folder))),
            sheet=PersonaSheet(
                name="Rose", relationship="grandmother", user_name="pet", memories=("we baked bread on Sundays",)
            ),
        )
        config = msgspec.structs.replace(SessionConfig(), **(session or {}))
        manager = CallManager(registry=registry, settings=settings, session_config=config)
        latencies: list[float] = []
        barge: list[float] = []
        async with LoopbackCall(manager, avatar) as call:
            for number in range(turns):
                samples, rate = spoken[number % len(spoken)]
                result = await call.turn(samples, rate)
                if result.latency_ms is not None:
                    latencies.append(result.latency_ms)
            for number in range(barge_ins):
                stopped = await call.barge_in(
                    user_speech(1.0, seed=100 + number), user_speech(0.8, seed=200 + number), RATE
                )
                if stopped is not None:
                    barge.append(stopped)
            stats = call.video_stats
            stages = stage_medians(call.live.session.finished_turns if call.live else [])
        received = call.client.received
        return {
            "backends": {kind.value: name for kind, name in registry.resolve_all().items()},
            "turns": turns,
            "p50_ms": _round(measure.percentile(latencies, 50)),
            "p95_ms": _round(measure.percentile(latencies, 95)),
            "latencies_ms": latencies,
            "late_frames_pct": round(100.0 * stats.late / max(1, stats.frames), 3),
            "frames": stats.frames,
            "late_indices": stats.late_indices,
            "fps": round(measure.fps(received), 2),
            "av_offset_ms": measure.av_offset_ms(received),
            "barge_in_ms": _round(statistics.median(barge)) if barge else None,
            "barge_ins_ms": barge,
            "server_stages_ms": stages,
        }


def stage_medians(turns: list[Any]) -> dict[str, float]:
    """Median ms from the moment the turn was confirmed (the end-of-turn quiet had passed) to each stage
    of the reply on the server; negative: done early, during the speculative wait."""
    out: dict[str, float] = {}
    for stage in ("transcribed", "first_sentence", "first_audio", "placed"):
        values = [
            (t.timings[stage] - t.timings["confirmed"]) * 1000
            for t in turns
            if stage in t.timings and "confirmed" in t.timings
        ]
        if values:
            out[stage] = round(statistics.median(values), 1)
    return out


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


@click.command("latency")
@click.option("--turns", type=int, default=6, show_default=True, help="Question/answer turns to time.")
@click.option("--barge-ins", type=int, default=3, show_default=True, help="Times to talk over the avatar.")
@click.option(
    "--say",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="Use these recordings as the user's turns (default: four questions spoken in the bundled voice).",
)
@click.option("--end-ms", type=int, help="Quiet that ends the user's turn (default: the session's, 400).")
@click.option("--speculate-ms", type=int, help="Quiet after which the reply is prepared unseen (default 200; 0: off).")
@click.option("--lead-ms", type=int, help="How far ahead of playback a reply is placed (default 60).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def command(
    turns: int,
    barge_ins: int,
    say: tuple[Path, ...],
    end_ms: int | None,
    speculate_ms: int | None,
    lead_ms: int | None,
    as_json: bool,
) -> None:
    """End-to-end call latency over loopback WebRTC."""
    tuning = {"speech_end_ms": end_ms, "speculate_ms": speculate_ms, "lead_ms": lead_ms}
    result = asyncio.run(run(turns, barge_ins, say, {k: v for k, v in tuning.items() if v is not None}))
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"backends: {result['backends']}")
    click.echo(
        f"end of speech -> first avatar audio: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms over {len(result['latencies_ms'])} turns"
    )
    click.echo(f"late frames {result['late_frames_pct']}% of {result['frames']} ({result['fps']} fps at the client)")
    click.echo(f"A/V offset {result['av_offset_ms']} ms (positive: the face lags the voice)")
    click.echo(
        f"server, ms after the end of turn was confirmed (median; negative: done early): {result['server_stages_ms']}"
    )
    click.echo(
        f"barge-in: avatar audio stops {result['barge_in_ms']} ms after the user starts talking (median of {result['barge_ins_ms']})"
    )
