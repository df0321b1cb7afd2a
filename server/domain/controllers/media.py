"""/avatars/{id}/photos and /avatars/{id}/voice-samples: upload, list, read, delete, fetch the file."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody
from litestar.response import File

from server.db.models import Avatar
from server.deps import AppSettings, AppStorage, CurrentUser, DbSession
from server.domain import photos, voices
from server.domain.avatars import owned_avatar
from server.domain.preparation import MEDIA_DEPENDENCY, Media
from server.domain.schemas import PhotoDetail, PhotoRead, VoiceSampleRead
from server.domain.uploads import original_name, read_upload

PRIVATE = {"Cache-Control": "private, no-store"}  # someone's face and voice: never in a shared cache


@dataclass
class FileUpload:
    """A multipart form with one file in the field `file`."""

    file: UploadFile


async def _owned_upload(
    db_session: DbSession, user: CurrentUser, avatar_id: int, upload: UploadFile, limit: int
) -> tuple[Avatar, bytes]:
    """The user's avatar (checked first) and the uploaded bytes; the upload is closed either way."""
    try:
        avatar = await owned_avatar(db_session, user, avatar_id)
        return avatar, await read_upload(upload, limit)
    finally:
        await upload.close()


class PhotoController(Controller):
    path = "/avatars/{avatar_id:int}/photos"
    tags = ("photos",)
    security = ({"bearer": []},)
    dependencies = MEDIA_DEPENDENCY

    @post("/", status_code=201, summary="Upload a photo (JPEG, PNG or WebP with one clear face)")
    async def upload(
        self,
        avatar_id: FromPath[int],
        data: MultipartBody[FileUpload],
        db_session: DbSession,
        current_user: CurrentUser,
        storage: AppStorage,
        settings: AppSettings,
        media: Media,
    ) -> PhotoDetail:
        avatar, raw = await _owned_upload(db_session, current_user, avatar_id, data.file, settings.limits.upload_bytes)
        image = await photos.add(db_session, storage, avatar, raw, settings.limits)
        if image.is_primary:
            await media.photo_changed(db_session, avatar.id)
        return photos.photo_detail(image)

    @get("/", summary="The avatar's photos")
    async def list_photos(
        self, avatar_id: FromPath[int], db_session: DbSession, current_user: CurrentUser
    ) -> list[PhotoRead]:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        return [photos.photo_read(p) for p in await photos.list_for(db_session, avatar)]

    @get("/{photo_id:int}", summary="One photo with its landmarks")
    async def read(
        self, avatar_id: FromPath[int], photo_id: FromPath[int], db_session: DbSession, current_user: CurrentUser
    ) -> PhotoDetail:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        image = await photos.owned_photo(db_session, avatar, photo_id)
        return photos.photo_detail(image)

    @get("/{photo_id:int}/file", summary="The stored image (JPEG)", media_type="image/jpeg")
    async def file(
        self,
        avatar_id: FromPath[int],
        photo_id: FromPath[int],
        db_session: DbSession,
        current_user: CurrentUser,
        storage: AppStorage,
    ) -> File:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        image = await photos.owned_photo(db_session, avatar, photo_id)
        return File(
            storage.existing(image.path), media_type="image/jpeg", content_disposition_type="inline", headers=PRIVATE
        )

    @put("/{photo_id:int}/primary", summary="Make this the photo that is animated")
    async def make_primary(
        self,
        avatar_id: FromPath[int],
        photo_id: FromPath[int],
        db_session: DbSession,
        current_user: CurrentUser,
        media: Media,
    ) -> PhotoRead:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        image = await photos.owned_photo(db_session, avatar, photo_id)
        was_primary = image.is_primary
        image = await photos.set_primary(db_session, avatar, image)
        await db_session.commit()  # the preparation job reads it from its own session
        if not was_primary:
            await media.photo_changed(db_session, avatar.id)
        return photos.photo_read(image)

    @delete("/{photo_id:int}", status_code=204)
    async def remove(
        self,
        avatar_id: FromPath[int],
        photo_id: FromPath[int],
        db_session: DbSession,
        current_user: CurrentUser,
        storage: AppStorage,
        media: Media,
    ) -> None:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        image = await photos.owned_photo(db_session, avatar, photo_id)
        was_primary = image.is_primary
        await photos.remove(db_session, storage, avatar, image)
        if was_primary:
            await media.photo_changed(db_session, avatar_id)


class VoiceSampleController(Controller):
    path = "/avatars/{avatar_id:int}/voice-samples"
    tags = ("voice",)
    security = ({"bearer": []},)
    dependencies = MEDIA_DEPENDENCY

    @post("/", status_code=201, summary="Upload a recording (WAV, MP3, M4A, OGG/Opus, FLAC, WebM audio)")
    async def upload(
        self,
        avatar_id: FromPath[int],
        data: MultipartBody[FileUpload],
        db_session: DbSession,
        current_user: CurrentUser,
        storage: AppStorage,
        settings: AppSettings,
        media: Media,
    ) -> VoiceSampleRead:
        avatar, raw = await _owned_upload(db_session, current_user, avatar_id, data.file, settings.limits.upload_bytes)
        sample = await voices.add(db_session, storage, avatar, raw, original_name(data.file), settings.limits)
        await media.voice_changed(db_session, avatar.id)  # learned in the background: see GET /avatars/{id}
        return voices.sample_read(sample)

    @get("/", summary="The avatar's voice samples")
    async def list_samples(
        self, avatar_id: FromPath[int], db_session: DbSession, current_user: CurrentUser
    ) -> list[VoiceSampleRead]:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        return [voices.sample_read(s) for s in await voices.list_for(db_session, avatar)]

    @get("/{sample_id:int}")
    async def read(
        self, avatar_id: FromPath[int], sample_id: FromPath[int], db_session: DbSession, current_user: CurrentUser
    ) -> VoiceSampleRead:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        return voices.sample_read(await voices.owned_sample(db_session, avatar, sample_id))

    @get("/{sample_id:int}/file", summary="The stored recording (16-bit mono WAV)", media_type="audio/wav")
    async def file(
        self,
        avatar_id: FromPath[int],
        sample_id: FromPath[int],
        db_session: DbSession,
        current_user: CurrentUser,
        storage: AppStorage,
    ) -> File:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        sample = await voices.owned_sample(db_session, avatar, sample_id)
        return File(
            storage.existing(sample.path), media_type="audio/wav", content_disposition_type="inline", headers=PRIVATE
        )

    @delete("/{sample_id:int}", status_code=204)
    async def remove(
        self,
        avatar_id: FromPath[int],
        sample_id: FromPath[int],
        db_session: DbSession,
        current_user: CurrentUser,
        storage: AppStorage,
        media: Media,
    ) -> None:
        avatar = await owned_avatar(db_session, current_user, avatar_id)
        await voices.remove(db_session, storage, await voices.owned_sample(db_session, avatar, sample_id))
        await media.voice_changed(db_session, avatar_id)
