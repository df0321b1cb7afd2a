"""`memoria demo`: a demo account and avatar from what the install already has, ready to call.

The face is scikit-image's astronaut portrait (or --photo), the voice sample is spoken by the
default voice backend, and the persona is a short sheet written here. Running it twice reuses the
account and the avatar instead of making copies.
"""

from __future__ import annotations

import asyncio
import io
import wave
from pathlib import Path

import click
import numpy as np
from sqlalchemy import select

from server.cli.common import friendly_errors, settings_and_registry
from server.errors import DependencyMissing

DEMO_NAME = "Rose"
PERSONA = {
    "relationship": "my grandmother",
    "user_name": "pet",
    "personality": "Warm, curious and a little cheeky; she loved her garden and a good story.",
    "speaking_style": "Short, gentle sentences; asks questions back; calls everyone 'pet'.",
}
MEMORIES = (
    "we baked bread together every Sunday morning",
    "she taught you to plant tomatoes in the back garden",
    "we went to the sea at Whitby every summer",
)
VOICE_TEXT = "Hello pet. It is lovely to see you. Shall we put the kettle on and have a chat?"


def demo_photo() -> bytes:
    """The astronaut portrait bundled with scikit-image, cropped to the head."""
    try:
        from skimage import data
    except ModuleNotFoundError as exc:
        raise DependencyMissing(
            "the demo portrait comes from scikit-image", hint="pip install scikit-image==0.26.0, or pass --photo FILE"
        ) from exc
    from PIL import Image

    out = io.BytesIO()
    portrait = data.astronaut()[0:360, 76:436]  # type: ignore[no-untyped-call]
    Image.fromarray(portrait).save(out, format="JPEG", quality=92)
    return out.getvalue()


async def spoken_sample(registry: object, text: str = VOICE_TEXT) -> bytes:
    """A WAV of the default voice backend saying `text` (what the demo avatar's voice sample is)."""
    from server.backends import BackendKind, VoiceBackend, VoiceProfile

    voice = registry.create(BackendKind.VOICE)  # type: ignore[attr-defined]
    assert isinstance(voice, VoiceBackend)
    async with voice:
        chunks = [c async for c in voice.synthesize(text, voice=VoiceProfile())]
    rate = chunks[0].sample_rate
    pcm = np.concatenate([c.samples for c in chunks]).astype(np.int16)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


async def make_demo(email: str, password: str, photo: bytes | None) -> tuple[int, bool]:
    """Create (or find) the demo user and avatar; returns (avatar id, created now). Its voice is
    learned and its photo prepared before this returns, as after an upload in the app."""
    from server.db.engine import upgrade
    from server.db.models import Avatar, User
    from server.domain.accounts import services as accounts
    from server.domain.accounts.schemas import UserCreate
    from server.domain.avatars import services as avatars
    from server.domain.avatars import texts
    from server.domain.avatars.schemas import AvatarCreate, MemoryWrite, PersonalityWrite
    from server.domain.media import photos, voices
    from server.runtime import Runtime

    settings, registry = settings_and_registry()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade(settings.db_url)
    async with Runtime.open(settings, registry) as runtime, runtime.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.email == accounts.normalise_email(email)))
        if user is None:
            user = await accounts.register(session, UserCreate(email=email, password=password, display_name="Demo"))
            await session.commit()
        existing = await session.scalar(select(Avatar.id).where(Avatar.owner_id == user.id, Avatar.name == DEMO_NAME))
        if existing is not None:
            return int(existing), False
        avatar = await avatars.create(
            session,
            user,
            AvatarCreate(
                name=DEMO_NAME,
                relationship=PERSONA["relationship"],
                user_name=PERSONA["user_name"],
                consent=True,
                consent_statement="Demo avatar made by `memoria demo` from a public-domain NASA portrait and a synthetic voice.",
            ),
        )
        await session.commit()
        limits, media, storage = settings.limits, runtime.media, runtime.storage
        await photos.add(session, storage, avatar, photo or demo_photo(), limits, media)
        await voices.add(session, storage, avatar, await spoken_sample(registry), "demo-voice.wav", limits, media)
        personality = PersonalityWrite(personality=PERSONA["personality"], speaking_style=PERSONA["speaking_style"])
        await texts.put_personality(session, avatar, personality, limits)
        for memory in MEMORIES:
            await texts.add_memory(session, avatar, MemoryWrite(text=memory), limits)
        await session.commit()
        await media.drain()
        return avatar.id, True


@click.command("demo")
@click.option("--email", default="demo@memoria.local", show_default=True, help="The demo account's email.")
@click.option("--password", default="memoria-demo", show_default=True, help="The demo account's password.")
@click.option(
    "--photo",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Use this portrait instead of the bundled one.",
)
@friendly_errors
def command(email: str, password: str, photo: Path | None) -> None:
    """Create the demo avatar from bundled assets."""
    avatar_id, created = asyncio.run(make_demo(email, password, photo.read_bytes() if photo else None))
    click.echo(f"{'Created' if created else 'Found'} the demo avatar {DEMO_NAME} (id {avatar_id}).")
    click.echo(f"Run `memoria serve`, open http://127.0.0.1:8000/ and log in as {email} / {password}.")
