"""Personality and memories: the text an avatar's persona is built from."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Avatar, Memory, Personality, possible_id
from server.domain.avatars import schemas
from server.domain.text import clean_line, clean_text
from server.errors import BadInput, Conflict, NotFound, TooLarge
from server.settings import Limits


def memory_text(text: str, limits: Limits) -> str:
    text = check_length("memory", clean_text("the memory", text, required=False), limits)
    if not text:
        raise BadInput("the memory is empty", hint="write what you remember")
    return text


def check_length(field: str, text: str, limits: Limits) -> str:
    if len(text) > limits.text_chars:
        raise TooLarge(
            f"{field} is {len(text):,} characters; the limit is {limits.text_chars:,}",
            hint="split it into several shorter memories" if field == "memory" else "shorten it",
        )
    return text


def personality_read(row: Personality | None) -> schemas.PersonalityRead:
    if row is None:
        return schemas.PersonalityRead(personality="", speaking_style="", example_phrases=[], updated_at=None)
    return schemas.PersonalityRead(
        personality=row.personality,
        speaking_style=row.speaking_style,
        example_phrases=list(row.example_phrases or []),
        updated_at=row.updated_at,
    )


async def get_personality(session: AsyncSession, avatar: Avatar) -> Personality | None:
    return await session.get(Personality, avatar.id)


async def put_personality(
    session: AsyncSession, avatar: Avatar, data: schemas.PersonalityWrite, limits: Limits
) -> Personality:
    check_length("personality", data.personality, limits)
    check_length("speaking_style", data.speaking_style, limits)
    for phrase in data.example_phrases:
        check_length("an example phrase", phrase, limits)
    check_length("example_phrases", "".join(data.example_phrases), limits)
    row = await session.get(Personality, avatar.id)
    if row is None:
        row = Personality(avatar_id=avatar.id)
        session.add(row)
    row.personality = clean_text("personality", data.personality, required=False)
    row.speaking_style = clean_text("speaking style", data.speaking_style, required=False)
    row.example_phrases = [clean_line("an example phrase", p) for p in data.example_phrases if p.strip()]
    await session.flush()
    await session.refresh(row)
    return row


def memory_read(memory: Memory) -> schemas.MemoryRead:
    return schemas.MemoryRead(
        id=memory.id, text=memory.text, created_at=memory.created_at, updated_at=memory.updated_at
    )


async def list_memories(session: AsyncSession, avatar: Avatar) -> list[Memory]:
    return list(await session.scalars(select(Memory).where(Memory.avatar_id == avatar.id).order_by(Memory.id)))


async def add_memory(session: AsyncSession, avatar: Avatar, data: schemas.MemoryWrite, limits: Limits) -> Memory:
    text = memory_text(data.text, limits)
    count = await session.scalar(select(func.count()).select_from(Memory).where(Memory.avatar_id == avatar.id))
    if (count or 0) >= limits.memories_per_avatar:
        raise Conflict(f"this avatar already has {count} memories, the most allowed", hint="delete or merge some first")
    memory = Memory(avatar_id=avatar.id, text=text)
    session.add(memory)
    await session.flush()
    await session.refresh(memory)
    return memory


async def owned_memory(session: AsyncSession, avatar: Avatar, memory_id: int) -> Memory:
    if not possible_id(memory_id):
        raise NotFound(f"no memory {memory_id} for this avatar")
    memory = await session.scalar(select(Memory).where(Memory.id == memory_id, Memory.avatar_id == avatar.id))
    if memory is None:
        raise NotFound(f"no memory {memory_id} for this avatar")
    return memory


async def update_memory(session: AsyncSession, memory: Memory, data: schemas.MemoryWrite, limits: Limits) -> Memory:
    memory.text = memory_text(data.text, limits)
    await session.flush()
    await session.refresh(memory)
    return memory
