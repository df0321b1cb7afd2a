"""/avatars/{id}/personality and /avatars/{id}/memories."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody

from server.deps import AppSettings, CurrentUser, DbSession
from server.domain import texts
from server.domain.avatars import owned_avatar
from server.domain.schemas import MemoryRead, MemoryWrite, PersonalityRead, PersonalityWrite


class PersonalityController(Controller):
    path = "/avatars/{avatar_id:int}/personality"
    tags = ("personality",)
    security = ({"bearer": []},)

    @get("/")
    async def read(self, avatar_id: FromPath[int], db_session: DbSession, current_user: CurrentUser) -> PersonalityRead:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        return texts.personality_read(await texts.get_personality(db_session, avatar))

    @put("/", summary="Replace the personality")
    async def write(
        self,
        avatar_id: FromPath[int],
        data: JSONBody[PersonalityWrite],
        db_session: DbSession,
        current_user: CurrentUser,
        settings: AppSettings,
    ) -> PersonalityRead:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        return texts.personality_read(await texts.put_personality(db_session, avatar, data, settings.limits))


class MemoryController(Controller):
    path = "/avatars/{avatar_id:int}/memories"
    tags = ("memories",)
    security = ({"bearer": []},)

    @get("/")
    async def list_memories(
        self, avatar_id: FromPath[int], db_session: DbSession, current_user: CurrentUser
    ) -> list[MemoryRead]:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        return [texts.memory_read(m) for m in await texts.list_memories(db_session, avatar)]

    @post("/", status_code=201)
    async def create(
        self,
        avatar_id: FromPath[int],
        data: JSONBody[MemoryWrite],
        db_session: DbSession,
        current_user: CurrentUser,
        settings: AppSettings,
    ) -> MemoryRead:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        return texts.memory_read(await texts.add_memory(db_session, avatar, data, settings.limits))

    @get("/{memory_id:int}")
    async def read(
        self, avatar_id: FromPath[int], memory_id: FromPath[int], db_session: DbSession, current_user: CurrentUser
    ) -> MemoryRead:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        return texts.memory_read(await texts.owned_memory(db_session, avatar, memory_id))

    @patch("/{memory_id:int}")
    async def update(
        self,
        avatar_id: FromPath[int],
        memory_id: FromPath[int],
        data: JSONBody[MemoryWrite],
        db_session: DbSession,
        current_user: CurrentUser,
        settings: AppSettings,
    ) -> MemoryRead:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        memory = await texts.owned_memory(db_session, avatar, memory_id)
        return texts.memory_read(await texts.update_memory(db_session, memory, data, settings.limits))

    @delete("/{memory_id:int}", status_code=204)
    async def remove(
        self, avatar_id: FromPath[int], memory_id: FromPath[int], db_session: DbSession, current_user: CurrentUser
    ) -> None:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        await db_session.delete(await texts.owned_memory(db_session, avatar, memory_id))
