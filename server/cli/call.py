"""`memoria call`: a whole call from the command line over loopback WebRTC, measured from the client.

The avatar is one from the database (--avatar NAME) or made on the spot from --photo, --voice and
--sheet. Each --say FILE.wav is one turn. basic-asr cannot recognise words: a FILE.txt beside a
FILE.wav is handed to it as that turn's transcript.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click
import msgspec
import numpy as np

from server.cli.common import friendly_errors, settings_and_registry
from server.errors import BadInput


async def ad_hoc_avatar(
    photo: Path, voices: tuple[Path, ...], sheet_file: Path, size: tuple[int, int], registry: Any = None
) -> Any:
    """A CallAvatar straight from files (landmarks found here, as photo upload would)."""
    from PIL import Image

    from server.backends import AvatarFace, PersonaSheet, VoiceProfile
    from server.pipeline.backends import CallAvatar

    try:
        sheet = msgspec.json.decode(sheet_file.read_bytes(), type=PersonaSheet)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadInput(
            f"{sheet_file} is not a persona sheet: {exc}",
            hint="JSON with name, relationship, user_name, personality, speaking_style, memories",
        ) from exc
    landmarks: tuple[tuple[float, float], ...] = ()
    try:
        from server.face.analysis import analyze_photo

        with Image.open(photo) as img:
            rgb = np.asarray(img.convert("RGB"))
        analysis = await asyncio.to_thread(analyze_photo, rgb)
        landmarks = tuple((float(p[0]), float(p[1])) for p in analysis.landmarks)
    except ModuleNotFoundError:
        pass  # no face analysis installed: animators fall back to their own detection
    learned = await learn_voice(registry, voices) if registry is not None and voices else {}
    return CallAvatar(
        face=AvatarFace(photo=photo, landmarks=landmarks, size=size),
        sheet=sheet,
        voice=VoiceProfile(samples=voices, learned=learned),
    )


async def learn_voice(registry: Any, voices: tuple[Path, ...]) -> dict[str, Any]:
    """Shape the default voice after the --voice recordings, as an upload would for a saved avatar:
    learned, then checked for clarity with the default ASR (a clearer version, or none, if it garbles)."""
    from server.backends import BackendKind
    from server.domain.voice_check import clearest

    backend = registry.create(BackendKind.VOICE)
    try:
        await backend.load()
        learned = dict(await backend.learn(voices))
        if not learned or not registry.file.defaults.get(BackendKind.ASR.value):
            return learned
        asr = registry.create(BackendKind.ASR)
        try:
            await asr.load()
            kept, clarity = await clearest(backend, asr, voices, learned)
        finally:
            await asr.aclose()
        if kept is None:
            click.echo(f"warning: {clarity.reason()}", err=True)
        return dict(kept or {})
    finally:
        await backend.aclose()


async def stored_avatar(sessionmaker: Any, storage: Any, name: str, size: str, registry: Any) -> tuple[Any, int]:
    """The avatar called `name` in the database and its owner's id."""
    from sqlalchemy import select

    from server.calls.avatars import call_avatar
    from server.db.models import Avatar, User

    async with sessionmaker() as session:
        rows = list(await session.execute(select(Avatar.id, Avatar.owner_id).where(Avatar.name == name)))
        if not rows:
            raise BadInput(
                f"no avatar named {name!r}", hint="see the avatar list in the web app, or run `memoria demo`"
            )
        if len(rows) > 1:
            raise BadInput(f"{len(rows)} avatars are named {name!r}", hint="rename one of them")
        avatar_id, owner_id = rows[0]
        user = await session.get(User, owner_id)
        return await call_avatar(session, storage, user, avatar_id, video=size, registry=registry), owner_id


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
    from server.calls.avatars import video_size
    from server.calls.manager import CallManager
    from server.rtc import measure
    from server.rtc.client import LoopbackClient
    from server.rtc.loopback import LoopbackCall
    from server.rtc.mp4 import Mp4Writer
    from server.storage import Storage

    settings, registry = settings_and_registry()
    settings = settings.with_changes(loopback_only=True)
    turns = load_turns(options["say"])
    scripted = [text for _, _, text in turns if text is not None]
    if scripted and "script" not in registry.file.config.get("basic-asr", {}):
        registry.file.config.setdefault("basic-asr", {})["script"] = scripted
    sessionmaker, engine, user_id = None, None, None
    try:
        if options["avatar"]:
            from server.db.engine import make_engine, make_sessionmaker

            engine = make_engine(settings.db_url)
            sessionmaker = make_sessionmaker(engine)
            avatar, user_id = await stored_avatar(
                sessionmaker, Storage(settings.data_dir), options["avatar"], options["video"], registry
            )
        else:
            if not (options["photo"] and options["sheet"]):
                raise click.UsageError("give --avatar NAME, or --photo FILE and --sheet FILE (and --voice FILE)")
            avatar = await ad_hoc_avatar(
                options["photo"], options["voice"], options["sheet"], video_size(options["video"]), registry
            )
        manager = CallManager(registry=registry, settings=settings, sessionmaker=sessionmaker)
        results = []
        writer = Mp4Writer(options["out"], size=avatar.face.size) if options["out"] else None
        async with LoopbackCall(manager, avatar, user_id=user_id, client=LoopbackClient(writer=writer)) as call:
            for samples, rate, _ in turns:
                results.append(await call.turn(samples, rate))
            await asyncio.sleep(0.5)
            stats = call.video_stats
            call_id = call.live.call_id if call.live else None
        received = call.client.received
        offset = measure.av_offset_ms(received)
        return {
            "call_id": call_id if call_id and call_id > 0 else None,
            "turns": [msgspec.to_builtins(r) for r in results],
            "frames": received.video_frames,
            "fps": round(measure.fps(received), 2),
            "av_offset_ms": offset,
            "late_frames": stats.late if stats else None,
            "late_indices": stats.late_indices if stats else None,
            "out": str(options["out"]) if options["out"] else None,
        }
    finally:
        if engine is not None:
            await engine.dispose()


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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def command(as_json: bool, **options: Any) -> None:
    """Make a whole call from the command line."""
    result = asyncio.run(run(options))
    if as_json:
        click.echo(json.dumps(result))
        return
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
