"""/avatars: create (with consent), list, read, edit, delete."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody

from server.backends import BackendKind
from server.deps import AppRegistry, AppStorage, CurrentUser, DbSession
from server.domain import avatars
from server.domain.preparation import MEDIA_DEPENDENCY, Media, backend_name
from server.domain.schemas import AvatarCreate, AvatarRead, AvatarUpdate


class AvatarController(Controller):
    path = "/avatars"
    tags = ("avatars",)
    security = ({"bearer": []},)
    dependencies = MEDIA_DEPENDENCY

    @post("/", status_code=201, summary="Create an avatar; needs the relationship and consent")
    async def create(
        self, data: JSONBody[AvatarCreate], db_session: DbSession, current_user: CurrentUser, media: Media
    ) -> AvatarRead:
        avatar = await avatars.create(db_session, current_user, data)
        return await avatars.avatar_read(db_session, avatar, media)

    @get("/", summary="Your avatars")
    async def list_avatars(self, db_session: DbSession, current_user: CurrentUser, media: Media) -> list[AvatarRead]:
        owned = await avatars.list_owned(db_session, current_user)
        return [await avatars.avatar_read(db_session, a, media) for a in owned]

    @get("/{avatar_id:int}")
    async def read(
        self, avatar_id: FromPath[int], db_session: DbSession, current_user: CurrentUser, media: Media
    ) -> AvatarRead:
        avatar = await avatars.owned_avatar(db_session, current_user, avatar_id)
        return await avatars.avatar_read(db_session, avatar, media)

    @patch("/{avatar_id:int}", summary="Change the fields given")
    async def update(
        self,
        avatar_id: FromPath[int],
        data: JSONBody[AvatarUpdate],
        db_session: DbSession,
        current_user: CurrentUser,
        registry: AppRegistry,
        media: Media,
    ) -> AvatarRead:
        avatar = await avatars.owned_avatar(db_session, current_user, avatar_id)
        before = {kind: backend_name(registry, avatar.backends, kind) for kind in BackendKind}
        avatar = await avatars.update(db_session, avatar, data, registry)
        await db_session.commit()  # the jobs below read the avatar from their own sessions
        after = {kind: backend_name(registry, avatar.backends, kind) for kind in BackendKind}
        if after[BackendKind.VOICE] != before[BackendKind.VOICE]:
            media.learn_voice(avatar.id)  # what the old backend learned is never given to the new one
        if after[BackendKind.ANIMATOR] != before[BackendKind.ANIMATOR]:
            media.prepare_face(avatar.id)
        return await avatars.avatar_read(db_session, avatar, media)

    @delete("/{avatar_id:int}", status_code=204, summary="Delete the avatar with all its rows and files")
    async def remove(
        self, avatar_id: FromPath[int], db_session: DbSession, current_user: CurrentUser, storage: AppStorage
    ) -> None:
        avatar = await avatars.owned_avatar(db_session, current_user, avatar_id)
        await avatars.delete(db_session, avatar, storage)
