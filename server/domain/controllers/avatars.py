"""/avatars: create (with consent), list, read, edit, delete."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from server.deps import AppRegistry, AppStorage, CurrentUser, DbSession
from server.domain import avatars
from server.domain.schemas import AvatarCreate, AvatarRead, AvatarUpdate


class AvatarController(Controller):
    path = "/avatars"
    tags = ("avatars",)
    security = ({"bearer": []},)

    @post("/", status_code=201, summary="Create an avatar; needs the relationship and consent")
    async def create(
        self, data: JSONBody[AvatarCreate], db_session: DbSession, current_user: CurrentUser
    ) -> AvatarRead:
        avatar = await avatars.create(db_session, current_user, data)
        return await avatars.avatar_read(db_session, avatar)

    @get("/", summary="Your avatars")
    async def list_avatars(self, db_session: DbSession, current_user: CurrentUser) -> list[AvatarRead]:
        return [await avatars.avatar_read(db_session, a) for a in await avatars.list_owned(db_session, current_user)]

    @get("/{avatar_id:int}")
    async def read(self, avatar_id: FromPath[int], db_session: DbSession, current_user: CurrentUser) -> AvatarRead:
        avatar = await avatars.owned_avatar(db_session, current_user, avatar_id)
        return await avatars.avatar_read(db_session, avatar)

    @patch("/{avatar_id:int}", summary="Change the fields given")
    async def update(
        self,
        avatar_id: FromPath[int],
        data: JSONBody[AvatarUpdate],
        db_session: DbSession,
        current_user: CurrentUser,
        registry: AppRegistry,
    ) -> AvatarRead:
        avatar = await avatars.owned_avatar(db_session, current_user, avatar_id)
        avatar = await avatars.update(db_session, avatar, data, registry)
        return await avatars.avatar_read(db_session, avatar)

    @delete("/{avatar_id:int}", status_code=204, summary="Delete the avatar with all its rows and files")
    async def remove(
        self, avatar_id: FromPath[int], db_session: DbSession, current_user: CurrentUser, storage: AppStorage
    ) -> None:
        avatar = await avatars.owned_avatar(db_session, current_user, avatar_id)
        await avatars.delete(db_session, avatar, storage)
