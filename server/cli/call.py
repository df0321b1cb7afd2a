"""`memoria call`: a whole call from the command line over loopback WebRTC, measured from the client.

The avatar is one from the database (--avatar NAME) or made on the spot from --photo, --voice and
--sheet. Each --say FILE.wav is one turn. basic-asr cannot recognise words: a FILE.txt beside a
FILE.wav is handed to it as that turn's transcript.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import click
import msgspec
import numpy as np

from server.cli.callee import ad_hoc_avatar, backend_choices, stored_avatar
from server.cli.common import friendly_errors, settings_and_registry


def load_turns(files: tuple[Path, ...]) -> list[tuple[np.ndarray, int, str | None]]:
    from server.pipeline.audio import to_int16
    from server.speech.audio_io import read_audio

    turns = []
    for path in files:
        audio, rate = read_audio(path)
        sidecar = path.with_suffix(".txt")
        turns.append(
            (to_int16(audio), rate, sidecar.read_text(encoding="utf-8").strip() if sidecar.is_file() else None)
        )
    return turns


async def run(options: dict[str, Any]) -> dict[str, Any]:
    from server.domain.calls.manager import CallManager
    from server.domain.media.faces import video_size
    from server.pool import BackendPool
    from server.storage import Storage

    settings, registry = settings_and_registry()
    settings = settings.with_changes(loopback_only=True)
    chosen = backend_choices(registry, options["backend"])
    turns = load_turns(options["say"])
    scripted = [text for _, _, text in turns if text is not None]
    if scripted and not registry.config_for("basic-asr").get("script"):
        registry.configure("basic-asr", script=scripted)
    async with AsyncExitStack() as stack:
        pool = BackendPool(registry)
        stack.push_async_callback(pool.aclose)
        sessionmaker, user_id = None, None
        if options["avatar"]:
            from server.db.engine import make_engine, make_sessionmaker

            engine = make_engine(settings.db_url)
            stack.push_async_callback(engine.dispose)
            sessionmaker = make_sessionmaker(engine)
            storage = Storage(settings.data_dir)
            avatar, user_id = await stored_avatar(sessionmaker, storage, options["avatar"], options["video"], registry)
            avatar = msgspec.structs.replace(avatar, backends={**avatar.backends, **chosen})
        elif options["photo"] and options["sheet"]:
            size = video_size(options["video"])
            avatar = await ad_hoc_avatar(options["photo"], options["voice"], options["sheet"], size, pool, chosen)
        else:
            raise click.UsageError("give --avatar NAME, or --photo FILE and --sheet FILE (and --voice FILE)")
        background = None
        # a stored avatar: a face engine too slow to be live renders what was said afterwards
        if sessionmaker is not None and options.get("renders", True):
            from server.renders.background import BackgroundRenders
            from server.renders.cache import DbRenderStore

            background = BackgroundRenders(pool, DbRenderStore(sessionmaker, Storage(settings.data_dir)))
            stack.push_async_callback(background.aclose)
        manager = CallManager(
            registry=registry, settings=settings, sessionmaker=sessionmaker, pool=pool, background=background
        )
        result = await converse(manager, avatar, user_id, turns, options["out"])
        if options["out"]:  # how visibly the avatar talked, on the frames the client received
            from server.face.articulation import articulation_of_recording

            result.update(await asyncio.to_thread(articulation_of_recording, options["out"]))
        if background is not None:
            await background.drain()
            result["rendered_after"] = background.rendered
        return result


async def converse(
    manager: Any, avatar: Any, user_id: int | None, turns: list[tuple[np.ndarray, int, str | None]], out: Path | None
) -> dict[str, Any]:
    """Say each turn over a loopback call and report what the client received."""
    from server.pipeline.events import NoticeEvent
    from server.rtc import measure
    from server.rtc.client import LoopbackClient
    from server.rtc.loopback import LoopbackCall
    from server.rtc.mp4 import Mp4Writer

    results = []
    writer = Mp4Writer(out, size=avatar.face.size) if out else None
    async with LoopbackCall(manager, avatar, user_id=user_id, client=LoopbackClient(writer=writer)) as call:
        for samples, rate, _ in turns:
            results.append(await call.turn(samples, rate))
        await asyncio.sleep(0.5)  # the last frames on their way to the client
        stats = call.video_stats
        call_id = call.live.call_id if call.live else None
    received = call.client.received
    return {
        "call_id": call_id if call_id and call_id > 0 else None,
        "backends": dict(avatar.backends) or None,
        "turns": [msgspec.to_builtins(r) for r in results],
        "frames": received.video_frames,
        "fps": round(measure.fps(received), 2),
        "av_offset_ms": measure.av_offset_ms(received),
        "late_frames": stats.late if stats else None,
        "late_indices": stats.late_indices if stats else None,
        "notices": [e.message for _, e in received.events if isinstance(e, NoticeEvent)],
        "out": str(out) if out else None,
    }


@click.command("call")
@click.option("--avatar", help="Call the avatar with this name from the database.")
@click.option("--photo", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Ad hoc avatar: the face.")
@click.option(
    "--voice",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="Ad hoc avatar: a voice sample (repeatable).",
)
@click.option(
    "--sheet",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Ad hoc avatar: persona JSON (name, relationship, user_name, personality, speaking_style, memories).",
)
@click.option(
    "--say",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    required=True,
    help="What you say, one turn per file (repeatable).",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write what the client received to this MP4."
)
@click.option("--video", type=click.Choice(["512", "720p"]), default="512", show_default=True)
@click.option(
    "--backend",
    multiple=True,
    metavar="KIND=NAME",
    help="Use this backend for one kind in this call, e.g. animator=wav2lip (repeatable; see `memoria plugins`).",
)
@click.option(
    "--renders/--no-renders",
    default=True,
    show_default=True,
    help="With --avatar and a face engine too slow to be live here: render what was said in full detail "
    "afterwards, for later calls (minutes per sentence for SadTalker on a CPU), and wait for it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def command(as_json: bool, **options: Any) -> None:
    """Make a whole call from the command line."""
    result = asyncio.run(run(options))
    if as_json:
        click.echo(json.dumps(result))
        return
    for notice in result["notices"]:
        click.echo(f"note: {notice}")
    for number, turn in enumerate(result["turns"], 1):
        click.echo(f"turn {number}: you: {turn['transcript']!r}")
        click.echo(f"        avatar ({turn['emotion']}): {turn['reply']!r}")
        click.echo(
            f"        first audio {turn['latency_ms']} ms, first speaking frame {turn['first_frame_ms']} ms"
            + (f", error: {turn['error']}" if turn["error"] else "")
        )
    click.echo(
        f"{result['frames']} frames at {result['fps']} fps, A/V offset {result['av_offset_ms']} ms, late frames {result['late_frames']}"
    )
    if result["out"]:
        click.echo(f"wrote {result['out']}")
    if result.get("rendered_after"):
        click.echo(f"rendered {result['rendered_after']} sentences for later calls (the render cache)")
