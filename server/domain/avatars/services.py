"""Avatars: creation with consent, reading, editing, and removal of everything they own.

Ownership rule: an avatar that belongs to someone else is reported exactly like one that does not
exist (404), so ids cannot be probed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.backends import BackendKind
from server.db.models import Avatar, AvatarImage, User, VoiceSample, possible_id, utcnow
from server.domain.avatars import schemas
from server.domain.avatars.removal import delete_avatar_rows
from server.domain.media import voice_profiles
from server.domain.text import clean_line, clean_text
from server.errors import BadInput, ConfigError, NotFound
from server.registry import Registry
from server.storage import Storage

if TYPE_CHECKING:
    from server.domain.calls.manager import CallManager
    from server.domain.media.preparation import MediaPreparer


async def owned_avatar(session: AsyncSession, user: User, avatar_id: int) -> Avatar:
    """The avatar if `user` owns it; NotFound otherwise (never says which)."""
    if not possible_id(avatar_id):
        raise NotFound(f"no avatar {avatar_id}")
    avatar = await session.scalar(select(Avatar).where(Avatar.id == avatar_id, Avatar.owner_id == user.id))
    if avatar is None:
        raise NotFound(f"no avatar {avatar_id}")
    return avatar


async def primary_photo_id(session: AsyncSession, avatar_id: int) -> int | None:
    return await session.scalar(
        select(AvatarImage.id).where(AvatarImage.avatar_id == avatar_id, AvatarImage.is_primary.is_(True)).limit(1)
    )


async def avatar_read(session: AsyncSession, avatar: Avatar, media: MediaPreparer) -> schemas.AvatarRead:
    return schemas.AvatarRead(
        id=avatar.id,
        name=avatar.name,
        relationship=avatar.relationship_to_user,
        user_name=avatar.user_name,
        consent_statement=avatar.consent_statement,
        consent_at=avatar.consent_at,
        backends=dict(avatar.backends or {}),
        primary_photo_id=await primary_photo_id(session, avatar.id),
        voice=await voice_likeness(session, avatar, media),
        created_at=avatar.created_at,
        updated_at=avatar.updated_at,
    )


async def voice_likeness(session: AsyncSession, avatar: Avatar, media: MediaPreparer) -> schemas.VoiceLikenessRead:
    """The likeness state for the avatar's current samples and voice backend."""
    sample_ids = list(await session.scalars(select(VoiceSample.id).where(VoiceSample.avatar_id == avatar.id)))
    backend = _resolved(media.registry, avatar, BackendKind.VOICE)
    state, error, when = voice_profiles.state_of(
        avatar.voice_profile, backend or "", sample_ids, pending=media.learning(avatar.id)
    )
    return schemas.VoiceLikenessRead(state=state, backend=backend, error=error, updated_at=when)


async def create(session: AsyncSession, user: User, data: schemas.AvatarCreate) -> Avatar:
    """A new avatar; refused unless the uploader confirms the right to use this likeness and voice."""
    if data.consent is not True:
        raise BadInput(
            "consent is required: confirm that you have the right to use this person's likeness and voice",
            hint='send "consent": true together with the consent_statement you showed',
        )
    if not data.relationship.strip():
        raise BadInput("say who this person was to you (relationship)")
    if not data.consent_statement.strip():
        raise BadInput("consent_statement must be the text the user agreed to")
    avatar = Avatar(
        owner_id=user.id,
        name=clean_line("name", data.name),
        relationship_to_user=clean_line("relationship", data.relationship),
        user_name=clean_line("what they called you", data.user_name, required=False),
        consent_statement=clean_text("consent statement", data.consent_statement),
        consent_at=utcnow(),
    )
    session.add(avatar)
    await session.flush()
    return avatar


async def list_owned(session: AsyncSession, user: User) -> list[Avatar]:
    return list(await session.scalars(select(Avatar).where(Avatar.owner_id == user.id).order_by(Avatar.id)))


async def update(session: AsyncSession, avatar: Avatar, data: schemas.AvatarUpdate, media: MediaPreparer) -> Avatar:
    """Change the fields given; a new voice or animator backend learns or prepares in the background."""
    registry = media.registry
    before = {kind: _resolved(registry, avatar, kind) for kind in (BackendKind.VOICE, BackendKind.ANIMATOR)}
    if data.name is not None:
        avatar.name = clean_line("name", data.name)
    if data.relationship is not None:
        avatar.relationship_to_user = clean_line("relationship", data.relationship)
    if data.user_name is not None:
        avatar.user_name = clean_line("what they called you", data.user_name, required=False)
    if data.backends is not None:
        avatar.backends = _checked_backends(data.backends, registry)
    await session.flush()
    await session.commit()  # the jobs below read the avatar from their own sessions
    await session.refresh(avatar)
    if _resolved(registry, avatar, BackendKind.VOICE) != before[BackendKind.VOICE]:
        media.learn_voice(avatar.id)  # what the old backend learned is never given to the new one
    if _resolved(registry, avatar, BackendKind.ANIMATOR) != before[BackendKind.ANIMATOR]:
        media.prepare_face(avatar.id)
    return avatar


def _resolved(registry: Registry, avatar: Avatar, kind: BackendKind) -> str | None:
    try:
        return registry.resolve(kind, avatar.backends)
    except ConfigError:  # the registry names no default of this kind
        return None


def _checked_backends(backends: dict[str, str], registry: Registry) -> dict[str, str]:
    """Per-avatar backend choices must name a kind and a backend that this server knows."""
    kinds = {kind.value: kind for kind in BackendKind}
    for kind_name, backend in backends.items():
        kind = kinds.get(kind_name)
        if kind is None:
            raise BadInput(f"unknown backend kind {kind_name!r}", hint=f"one of: {', '.join(kinds)}")
        if backend not in registry.names(kind):
            known = ", ".join(registry.names(kind)) or "none"
            raise BadInput(f"no {kind_name} backend named {backend!r}", hint=f"installed: {known}")
    return dict(backends)


async def delete(
    session: AsyncSession, avatar: Avatar, storage: Storage, calls: CallManager, media: MediaPreparer
) -> None:
    """End the avatar's live calls and background jobs, then remove its rows (all tables), its folder and every file a row
    pointed at, then commit.

    Calls end first so that nothing of a live call writes after its rows are gone. Files go before the
    commit: if removing them fails, the rows stay and the user can simply delete again; committing
    first could leave files that no row (and so no user) can reach any more.
    """
    avatar_id = avatar.id
    await calls.end_avatar_calls(avatar_id, reason="avatar deleted")
    await media.forget(avatar_id)
    paths = await delete_avatar_rows(session, avatar_id)

    def remove_files() -> None:
        storage.delete_avatar(avatar_id)
        for path in paths:
            storage.delete(path)

    await asyncio.to_thread(remove_files)
    await session.commit()
