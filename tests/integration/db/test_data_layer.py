"""What the rest of the server relies on from the tables, on SQLite and on MariaDB alike."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import (
    ApiToken,
    Avatar,
    AvatarImage,
    Base,
    Conversation,
    GeneratedVideo,
    Memory,
    Message,
    Personality,
    User,
    VideoCall,
    VoiceSample,
    utcnow,
)

AVATAR_CHILDREN = (
    AvatarImage,
    VoiceSample,
    Memory,
    Personality,
    Conversation,
    Message,
    VideoCall,
    GeneratedVideo,
)


def _user(email: str = "ana@example.org") -> User:
    return User(email=email, password_hash="x" * 60, display_name="Ana")


def _avatar(owner: User, name: str = "Grandma", **fields: Any) -> Avatar:
    return Avatar(
        owner=owner,
        name=name,
        relationship_to_user="grandmother",
        consent_statement="I may.",
        consent_at=utcnow(),
        **fields,
    )


async def _count(session: AsyncSession, model: type[Base]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _full_avatar(session: AsyncSession, user: User, name: str) -> Avatar:
    """An avatar with one row in every table that hangs off it."""
    avatar = _avatar(
        user,
        name,
        personality=Personality(personality="warm", example_phrases=["oh my"]),
        images=[AvatarImage(path="a.png", width=512, height=512, is_primary=True)],
        voice_samples=[VoiceSample(path="a.wav", duration_s=3.5, sample_rate=22050)],
        memories=[Memory(text="We baked bread on Sundays.")],
    )
    session.add(avatar)
    await session.flush()
    conversation = Conversation(
        avatar_id=avatar.id,
        user_id=user.id,
        messages=[Message(role="user", text="Hi"), Message(role="avatar", text="Hello, dear.", emotion="happy")],
    )
    session.add(conversation)
    await session.flush()
    session.add(VideoCall(conversation_id=conversation.id, avatar_id=avatar.id, user_id=user.id))
    session.add(GeneratedVideo(avatar_id=avatar.id, text_hash="h" * 64, text="Hello, dear.", path="v.mp4"))
    await session.commit()
    return avatar


async def test_deleting_an_avatar_removes_everything_it_owns(session: AsyncSession) -> None:
    user = _user()
    await _full_avatar(session, user, "Grandpa")
    doomed = await _full_avatar(session, user, "Grandma")
    before = {model: await _count(session, model) for model in AVATAR_CHILDREN}
    assert all(before[model] >= 1 for model in AVATAR_CHILDREN)

    await session.delete(doomed)
    await session.commit()
    session.expunge_all()

    for model in AVATAR_CHILDREN:  # the other avatar's rows stay, exactly half go
        assert await _count(session, model) == before[model] // 2, model.__tablename__
    assert await session.scalar(select(Avatar.name)) == "Grandpa"


async def test_deleting_a_user_removes_tokens_avatars_and_calls(session: AsyncSession) -> None:
    user = _user()
    await _full_avatar(session, user, "Grandma")
    session.add(ApiToken(user_id=user.id, token_hash="t" * 64, expires_at=utcnow() + timedelta(days=1)))
    await session.commit()

    await session.delete(user)
    await session.commit()
    session.expunge_all()

    for model in (ApiToken, Avatar, *AVATAR_CHILDREN):
        assert await _count(session, model) == 0, model.__tablename__


async def test_email_is_unique(session: AsyncSession) -> None:
    session.add(_user("same@example.org"))
    await session.commit()
    session.add(_user("same@example.org"))
    with pytest.raises(IntegrityError):
        await session.commit()
    await session.rollback()
    session.add(_user("other@example.org"))
    await session.commit()
    assert await _count(session, User) == 2


async def _call(session: AsyncSession) -> VideoCall:
    user = _user()
    avatar = _avatar(user)
    session.add(avatar)
    await session.flush()
    conversation = Conversation(avatar_id=avatar.id, user_id=user.id)
    session.add(conversation)
    await session.flush()
    call = VideoCall(conversation_id=conversation.id, avatar_id=avatar.id, user_id=user.id)
    session.add(call)
    await session.commit()
    return call


@pytest.mark.parametrize("score", [0, 6, -1, 100])
async def test_satisfaction_outside_1_to_5_is_rejected(session: AsyncSession, score: int) -> None:
    call = await _call(session)
    call.user_satisfaction = score
    with pytest.raises(IntegrityError):
        await session.commit()


async def test_satisfaction_1_to_5_and_none_are_accepted(session: AsyncSession) -> None:
    call = await _call(session)
    for score in (1, 3, 5, None):
        call.user_satisfaction = score
        await session.commit()
        session.expunge_all()
        assert await session.scalar(select(VideoCall.user_satisfaction)) == score
        call = await session.get_one(VideoCall, call.id)


async def test_datetimes_keep_microseconds(session: AsyncSession) -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 123456)
    call = await _call(session)
    call.ended_at = moment
    await session.commit()
    session.expunge_all()
    assert await session.scalar(select(VideoCall.ended_at)) == moment
    created = await session.scalar(select(User.created_at))
    assert created is not None and created.tzinfo is None  # naive UTC everywhere


async def test_json_columns_round_trip(session: AsyncSession) -> None:
    landmarks: dict[str, Any] = {"points": [[0.25, 0.5], [1e-3, 2.5]], "model": "mesh", "ok": True, "none": None}
    avatar = _avatar(
        _user(),
        backends={"animator": "warp", "nested": {"a": [1, 2, 3]}},
        images=[AvatarImage(path="p.png", width=1, height=1, face_landmarks=landmarks)],
        personality=Personality(example_phrases=["Ay, mi niño", "加油", "🙂"]),
    )
    session.add(avatar)
    await session.commit()
    session.expunge_all()

    loaded = await session.scalar(select(Avatar))
    assert loaded is not None
    assert loaded.backends == {"animator": "warp", "nested": {"a": [1, 2, 3]}}
    assert await session.scalar(select(AvatarImage.face_landmarks)) == landmarks
    assert await session.scalar(select(Personality.example_phrases)) == ["Ay, mi niño", "加油", "🙂"]
    assert await session.scalar(select(Message.flags)) is None  # no messages: nothing made up


async def test_json_changes_in_place_are_saved(session: AsyncSession) -> None:
    avatar = _avatar(_user())
    session.add(avatar)
    await session.commit()
    avatar.voice_profile["pitch_shift"] = 1.5  # mutated, not reassigned
    await session.commit()
    session.expunge_all()
    assert await session.scalar(select(Avatar.voice_profile)) == {"pitch_shift": 1.5}


@pytest.mark.parametrize("words", ["奶奶，我想你了。", "Te quiero 😘🌻", "𝓖rüße — ☕", "👨‍👩‍👧 family"])
async def test_four_byte_unicode_round_trips(session: AsyncSession, words: str) -> None:
    user = User(email="u@example.org", password_hash="x", display_name=words)
    session.add(_avatar(user, name=words, memories=[Memory(text=words * 50)]))
    await session.commit()
    session.expunge_all()
    assert await session.scalar(select(User.display_name)) == words
    assert await session.scalar(select(Avatar.name)) == words
    assert await session.scalar(select(Memory.text)) == words * 50


async def test_floats_are_double_precision(session: AsyncSession) -> None:
    avatar = _avatar(
        _user(),
        images=[AvatarImage(path="p.png", width=1, height=1, quality_score=0.87)],
        voice_samples=[VoiceSample(path="s.wav", duration_s=123.456789, sample_rate=16000)],
    )
    session.add(avatar)
    await session.commit()
    session.expunge_all()
    assert await session.scalar(select(AvatarImage.quality_score)) == 0.87
    assert await session.scalar(select(VoiceSample.duration_s)) == 123.456789


async def test_each_test_starts_empty(session: AsyncSession) -> None:
    for table in Base.metadata.sorted_tables:
        assert await session.scalar(select(func.count()).select_from(table)) == 0, table.name


async def test_a_deleted_rows_id_is_never_given_to_a_new_row(session: AsyncSession) -> None:
    """A stale id (a call still running for a deleted avatar) must never point at someone else's row."""
    user = _user()
    first = await _full_avatar(session, user, "Grandma")
    old_ids = (first.id, (await session.scalars(select(Conversation.id))).one())
    await session.delete(first)
    await session.commit()
    session.expunge_all()
    second = await _full_avatar(session, _user("bo@example.org"), "Grandad")
    new_conversation = (await session.scalars(select(Conversation.id))).one()
    assert second.id > old_ids[0] and new_conversation > old_ids[1]
