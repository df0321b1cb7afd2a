"""Who `memoria call` calls: a saved avatar by name, or one made on the spot from files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click
import msgspec
import numpy as np

from server.backends import AvatarFace, BackendKind, PersonaSheet, VoiceBackend, VoiceProfile
from server.errors import BadInput
from server.pipeline.backends import CallAvatar
from server.pool import BackendPool
from server.registry import Registry


def backend_choices(registry: Registry, pairs: tuple[str, ...]) -> dict[str, str]:
    """`--backend KIND=NAME` options as {kind: name}, each checked against the registry."""
    kinds = {kind.value: kind for kind in BackendKind}
    chosen: dict[str, str] = {}
    for pair in pairs:
        kind, sep, name = pair.partition("=")
        if not sep or kind not in kinds or not name:
            raise click.BadParameter(
                f"{pair!r}: use KIND=NAME with KIND one of {', '.join(kinds)}", param_hint="--backend"
            )
        registry.ensure_ready(kinds[kind], registry.entry(kinds[kind], name).name)
        chosen[kind] = name
    return chosen


async def ad_hoc_avatar(
    photo: Path,
    voices: tuple[Path, ...],
    sheet_file: Path,
    size: tuple[int, int],
    pool: BackendPool,
    backends: dict[str, str],
) -> CallAvatar:
    """A CallAvatar straight from files (landmarks found here, and the voice learned, as uploads would)."""
    from PIL import Image

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
    voice = pool.registry.resolve(BackendKind.VOICE, backends)
    learned = await learn_voice(pool, voice, voices) if voices else {}
    return CallAvatar(
        face=AvatarFace(photo=photo, landmarks=landmarks, size=size),
        sheet=sheet,
        voice=VoiceProfile(samples=voices, learned=learned),
        backends=backends,
    )


async def learn_voice(pool: BackendPool, name: str, voices: tuple[Path, ...]) -> dict[str, Any]:
    """Shape voice backend `name` after the --voice recordings, as an upload would for a saved avatar:
    learned, then checked for clarity with the ASR (a clearer version, or none, if it garbles)."""
    from server.backends import ASRBackend
    from server.domain.media.voice_check import clearest

    async with pool.borrow(VoiceBackend, name) as backend:
        learned = dict(await backend.learn(voices))
        if not learned or not pool.registry.file.defaults.get(BackendKind.ASR.value):
            return learned
        async with pool.borrow(ASRBackend) as asr:
            kept, clarity = await clearest(backend, asr, voices, learned)
    if kept is None:
        click.echo(f"warning: {clarity.reason()}", err=True)
    return dict(kept or {})


async def stored_avatar(
    sessionmaker: Any, storage: Any, name: str, size: str, registry: Registry
) -> tuple[CallAvatar, int]:
    """The avatar called `name` in the database and its owner's id."""
    from sqlalchemy import select

    from server.db.models import Avatar
    from server.domain.calls.callee import call_avatar

    async with sessionmaker() as session:
        rows = list(await session.scalars(select(Avatar).where(Avatar.name == name)))
        if not rows:
            raise BadInput(
                f"no avatar named {name!r}", hint="see the avatar list in the web app, or run `memoria demo`"
            )
        if len(rows) > 1:
            raise BadInput(f"{len(rows)} avatars are named {name!r}", hint="rename one of them")
        return await call_avatar(session, storage, rows[0], registry, video=size), rows[0].owner_id
