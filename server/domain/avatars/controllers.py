"""/avatars (create with consent, list, read, edit, delete) and each avatar's personality and memories."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.response import Response

from server.deps import AppRuntime, AppSettings, AppStorage, Calls, CurrentUser, DbSession, Media, OwnedAvatar
from server.domain.avatars import services, texts
from server.domain.avatars.schemas import (
    AvatarCreate,
    AvatarRead,
    AvatarUpdate,
    MemoryRead,
    MemoryWrite,
    PersonalityRead,
    PersonalityWrite,
)


class AvatarController(Controller):
    path = "/avatars"
    tags = ("avatars",)
    security = ({"bearer": []},)

    @post("/", status_code=201, summary="Create an avatar; needs the relationship and consent")
    async def create(
        self, data: JSONBody[AvatarCreate], db_session: DbSession, current_user: CurrentUser, media: Media
    ) -> AvatarRead:
        avatar = await services.create(db_session, current_user, data)
        return await services.avatar_read(db_session, avatar, media)

    @get("/", summary="Your avatars")
    async def list_avatars(self, db_session: DbSession, current_user: CurrentUser, media: Media) -> list[AvatarRead]:
        owned = await services.list_owned(db_session, current_user)
        return [await services.avatar_read(db_session, a, media) for a in owned]

    @get("/{avatar_id:int}")
    async def read(self, avatar: OwnedAvatar, db_session: DbSession, media: Media) -> AvatarRead:
        return await services.avatar_read(db_session, avatar, media)

    @patch("/{avatar_id:int}", summary="Change the fields given")
    async def update(
        self, avatar: OwnedAvatar, data: JSONBody[AvatarUpdate], db_session: DbSession, media: Media
    ) -> AvatarRead:
        avatar = await services.update(db_session, avatar, data, media)
        return await services.avatar_read(db_session, avatar, media)

    @get(
        "/{avatar_id:int}/voice/preview",
        summary="Hear the avatar's voice: one sentence as a call would speak it (WAV)",
        media_type="audio/wav",
    )
    async def voice_preview(
        self, avatar: OwnedAvatar, db_session: DbSession, storage: AppStorage, runtime: AppRuntime
    ) -> Response[bytes]:
        from server.domain.avatars.preview import preview_wav

        wav = await preview_wav(db_session, storage, avatar, runtime.registry, runtime.pool)
        return Response(wav, media_type="audio/wav", headers={"Cache-Control": "private, no-store"})

    @delete("/{avatar_id:int}", status_code=204, summary="Delete the avatar with all its rows and files")
    async def remove(
        self, avatar: OwnedAvatar, db_session: DbSession, storage: AppStorage, calls: Calls, media: Media
    ) -> None:
        await services.delete(db_session, avatar, storage, calls, media)


class PersonalityController(Controller):
    path = "/avatars/{avatar_id:int}/personality"
    tags = ("personality",)
    security = ({"bearer": []},)

    @get("/")
    async def read(self, avatar: OwnedAvatar, db_session: DbSession) -> PersonalityRead:
        return texts.personality_read(await texts.get_personality(db_session, avatar))

    @put("/", summary="Replace the personality")
    async def write(
        self, avatar: OwnedAvatar, data: JSONBody[PersonalityWrite], db_session: DbSession, settings: AppSettings
    ) -> PersonalityRead:
        return texts.personality_read(await texts.put_personality(db_session, avatar, data, settings.limits))


class MemoryController(Controller):
    path = "/avatars/{avatar_id:int}/memories"
    tags = ("memories",)
    security = ({"bearer": []},)

    @get("/")
    async def list_memories(self, avatar: OwnedAvatar, db_session: DbSession) -> list[MemoryRead]:
        return [texts.memory_read(m) for m in await texts.list_memories(db_session, avatar)]

    @post("/", status_code=201)
    async def create(
        self, avatar: OwnedAvatar, data: JSONBody[MemoryWrite], db_session: DbSession, settings: AppSettings
    ) -> MemoryRead:
        return texts.memory_read(await texts.add_memory(db_session, avatar, data, settings.limits))

    @get("/{memory_id:int}")
    async def read(self, avatar: OwnedAvatar, memory_id: FromPath[int], db_session: DbSession) -> MemoryRead:
        return texts.memory_read(await texts.owned_memory(db_session, avatar, memory_id))

    @patch("/{memory_id:int}")
    async def update(
        self,
        avatar: OwnedAvatar,
        memory_id: FromPath[int],
        data: JSONBody[MemoryWrite],
        db_session: DbSession,
        settings: AppSettings,
    ) -> MemoryRead:
        memory = await texts.owned_memory(db_session, avatar, memory_id)
        return texts.memory_read(await texts.update_memory(db_session, memory, data, settings.limits))

    @delete("/{memory_id:int}", status_code=204)
    async def remove(self, avatar: OwnedAvatar, memory_id: FromPath[int], db_session: DbSession) -> None:
        await db_session.delete(await texts.owned_memory(db_session, avatar, memory_id))


ROUTES: list[type] = [AvatarController, PersonalityController, MemoryController]
