"""The two background jobs `MediaPreparer` runs: learn an avatar's voice likeness, prepare its
primary photo. Each returns True when the avatar changed while it worked, so it should run again."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from server.backends import AnimatorBackend, ASRBackend, BackendKind, VoiceBackend
from server.db.models import Avatar, AvatarImage, VoiceSample
from server.domain.media import voice_check, voice_profiles
from server.domain.media.faces import DEFAULT_VIDEO, face_for, video_size
from server.errors import ConfigError, MemoriaError
from server.renders import store as render_store

if TYPE_CHECKING:
    from server.domain.media.preparation import MediaPreparer

log = logging.getLogger(__name__)

UNCLEAR_HINT = "upload recordings of the person speaking alone, close to the microphone, with little noise"


def _backend(preparer: MediaPreparer, avatar: Avatar, kind: BackendKind) -> str | None:
    """The avatar's backend of `kind`, or None when the registry names none (logged by the caller)."""
    try:
        return preparer.registry.resolve(kind, avatar.backends)
    except ConfigError:
        return None


async def learn_voice(preparer: MediaPreparer, avatar_id: int) -> bool:
    """Learn from the current samples with the avatar's voice backend and store the result."""
    async with preparer.sessionmaker() as session:
        avatar = await session.get(Avatar, avatar_id)
        if avatar is None:
            return False
        name = _backend(preparer, avatar, BackendKind.VOICE)
        query = select(VoiceSample.id, VoiceSample.path).where(VoiceSample.avatar_id == avatar_id)
        samples = list((await session.execute(query.order_by(VoiceSample.id))).all())
    ids = [sample_id for sample_id, _ in samples]
    if not samples:
        profile: dict[str, object] = {}
    elif name is None:
        profile = voice_profiles.with_failure("", voice_profiles.NO_VOICE_BACKEND, ids)
    else:
        try:
            paths = tuple(preparer.storage.resolve(p) for _, p in samples)
            async with preparer.pool.borrow(VoiceBackend, name) as backend:
                learned = await backend.learn(paths)
                kept, unclear = await _clear_version(preparer, backend, paths, learned)
            if kept is not None:
                profile = voice_profiles.with_learned(name, kept, ids)
            else:
                log.warning("the voice learned for avatar %s with %s is unclear: %s", avatar_id, name, unclear)
                profile = voice_profiles.with_failure(name, f"{unclear} ({UNCLEAR_HINT})", ids)
        except Exception as exc:  # recorded for the user; the samples stay as they are
            log.warning("learning the voice of avatar %s with %s failed: %s", avatar_id, name, exc)
            profile = voice_profiles.with_failure(name, _reason(exc), ids)
    async with preparer.sessionmaker() as session:
        avatar = await session.get(Avatar, avatar_id)
        if avatar is None:
            return False
        now = list(await session.scalars(select(VoiceSample.id).where(VoiceSample.avatar_id == avatar_id)))
        if sorted(now) != ids or _backend(preparer, avatar, BackendKind.VOICE) != name:
            return True  # changed while learning: this result is already stale
        avatar.voice_profile = profile
        await session.commit()
        if voice_profiles.learned_backends(profile):
            # Replies rendered before were spoken without this likeness.
            await render_store.forget_avatar(session, preparer.storage, avatar_id)
    return False


async def prepare_face(preparer: MediaPreparer, avatar_id: int) -> bool:
    """Run the avatar's animator's `prepare()` on its primary photo, into the call's cache folder."""
    async with preparer.sessionmaker() as session:
        avatar = await session.get(Avatar, avatar_id)
        if avatar is None:
            return False
        image = await session.scalar(
            select(AvatarImage).where(AvatarImage.avatar_id == avatar_id, AvatarImage.is_primary.is_(True)).limit(1)
        )
        if image is None:
            return False
        name = _backend(preparer, avatar, BackendKind.ANIMATOR)
        face = face_for(image, preparer.storage, avatar_id, video_size(DEFAULT_VIDEO))
        photo_id = image.id
    if name is None:
        log.info("no animator backend configured: photo %s of avatar %s not prepared", photo_id, avatar_id)
        return False
    async with preparer.pool.borrow(AnimatorBackend, name) as animator:
        await animator.prepare(face)
    log.info("prepared photo %s of avatar %s for %s", photo_id, avatar_id, name)
    return False


async def _clear_version(
    preparer: MediaPreparer, voice: VoiceBackend, paths: tuple[Path, ...], learned: Mapping[str, Any]
) -> tuple[Mapping[str, Any] | None, str | None]:
    """(what to keep, why nothing is kept): `learned` or the backend's closest clear version of it.
    Without a speech recogniser, or if the check itself fails, `learned` is kept unchecked."""
    try:
        asr_name = preparer.registry.resolve(BackendKind.ASR)  # the server's recogniser checks every voice
    except ConfigError:
        return learned, None
    if not learned:
        return learned, None
    try:
        async with preparer.pool.borrow(ASRBackend, asr_name) as asr:
            kept, clarity = await voice_check.clearest(voice, asr, paths, learned)
    except Exception:  # the check is a safeguard; it never costs the user their likeness
        log.exception("could not check how clear the learned voice is")
        return learned, None
    if kept is not None and kept is not learned:
        log.info("the closest likeness garbled words; a clearer version is kept (%s)", clarity)
    return kept, None if kept is not None else clarity.reason()


def _reason(exc: Exception) -> str:
    if isinstance(exc, MemoriaError):
        return exc.message + (f" ({exc.hint})" if exc.hint else "")
    return f"{type(exc).__name__}: {exc}"
