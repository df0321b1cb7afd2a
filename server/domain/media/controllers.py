"""/avatars/{id}/photos and /avatars/{id}/voice-samples: one shape for both (upload, list, read,
fetch the file, delete), built by `media_controller` from a `MediaKind`; photos add "make primary".

No `from __future__ import annotations` here: the handlers are made inside a function, and Litestar
reads their real types from the signatures for the OpenAPI schema.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Controller, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody
from litestar.response import File
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Avatar
from server.deps import AppSettings, AppStorage, DbSession, Media, OwnedAvatar
from server.domain.media import photos, voices
from server.domain.media.preparation import MediaPreparer
from server.domain.media.schemas import PhotoDetail, PhotoRead, VoiceSampleRead
from server.domain.media.uploads import original_name, read_upload
from server.settings import Settings
from server.storage import Storage

PRIVATE = {"Cache-Control": "private, no-store"}  # someone's face and voice: never in a shared cache


@dataclass
class FileUpload:
    """A multipart form with one file in the field `file`."""

    file: UploadFile


@dataclass(frozen=True)
class MediaKind:
    """What differs between photos and voice samples; the endpoints are the same."""

    add: Callable[[AsyncSession, Storage, Avatar, bytes, str, Settings, MediaPreparer], Awaitable[Any]]
    rows: Callable[[AsyncSession, Avatar], Awaitable[Sequence[Any]]]
    owned: Callable[[AsyncSession, Avatar, int], Awaitable[Any]]
    remove: Callable[[AsyncSession, Storage, Avatar, Any, MediaPreparer], Awaitable[None]]
    read: Callable[[Any], Any]
    detail: Callable[[Any], Any]
    media_type: str


def media_controller(
    kind: MediaKind, *, path: str, tag: str, read_type: type, detail_type: type, upload: str
) -> type[Controller]:
    """A controller with the five shared endpoints for `kind` under `path`."""

    async def create(
        self: Controller,
        avatar: OwnedAvatar,
        data: MultipartBody[FileUpload],
        db_session: DbSession,
        storage: AppStorage,
        settings: AppSettings,
        media: Media,
    ) -> detail_type:  # type: ignore[valid-type]
        try:
            raw = await read_upload(data.file, settings.limits.upload_bytes)
        finally:
            await data.file.close()
        row = await kind.add(db_session, storage, avatar, raw, original_name(data.file), settings, media)
        return kind.detail(row)

    async def list_items(self: Controller, avatar: OwnedAvatar, db_session: DbSession) -> list[read_type]:  # type: ignore[valid-type]
        return [kind.read(row) for row in await kind.rows(db_session, avatar)]

    async def read(self: Controller, avatar: OwnedAvatar, item_id: FromPath[int], db_session: DbSession) -> detail_type:  # type: ignore[valid-type]
        return kind.detail(await kind.owned(db_session, avatar, item_id))

    async def file(
        self: Controller, avatar: OwnedAvatar, item_id: FromPath[int], db_session: DbSession, storage: AppStorage
    ) -> File:
        row = await kind.owned(db_session, avatar, item_id)
        return File(
            storage.existing(row.path), media_type=kind.media_type, content_disposition_type="inline", headers=PRIVATE
        )

    async def remove(
        self: Controller,
        avatar: OwnedAvatar,
        item_id: FromPath[int],
        db_session: DbSession,
        storage: AppStorage,
        media: Media,
    ) -> None:
        await kind.remove(db_session, storage, avatar, await kind.owned(db_session, avatar, item_id), media)

    handlers = {
        "path": path,
        "tags": (tag,),
        "security": ({"bearer": []},),
        "upload": post("/", status_code=201, summary=upload)(create),
        "list_items": get("/", summary=f"The avatar's {tag}")(list_items),
        "read": get("/{item_id:int}")(read),
        "file": get("/{item_id:int}/file", summary="The stored file", media_type=kind.media_type)(file),
        "remove": delete("/{item_id:int}", status_code=204)(remove),
    }
    return type(f"{tag.title().replace(' ', '')}Controller", (Controller,), handlers)


PHOTOS = MediaKind(
    add=lambda s, st, a, raw, _name, cfg, m: photos.add(s, st, a, raw, cfg.limits, m),
    rows=photos.list_for,
    owned=photos.owned_photo,
    remove=photos.remove,
    read=photos.photo_read,
    detail=photos.photo_detail,
    media_type="image/jpeg",
)
VOICES = MediaKind(
    add=lambda s, st, a, raw, name, cfg, m: voices.add(s, st, a, raw, name, cfg.limits, m),
    rows=voices.list_for,
    owned=voices.owned_sample,
    remove=lambda s, st, _a, row, m: voices.remove(s, st, row, m),
    read=voices.sample_read,
    detail=voices.sample_read,
    media_type="audio/wav",
)

_Photos = media_controller(
    PHOTOS,
    path="/avatars/{avatar_id:int}/photos",
    tag="photos",
    read_type=PhotoRead,
    detail_type=PhotoDetail,
    upload="Upload a photo (JPEG, PNG, WebP or HEIC with one clear face)",
)


class PhotoController(_Photos):  # type: ignore[misc, valid-type]
    @put("/{item_id:int}/primary", summary="Make this the photo that is animated")
    async def make_primary(
        self, avatar: OwnedAvatar, item_id: FromPath[int], db_session: DbSession, media: Media
    ) -> PhotoRead:
        image = await photos.owned_photo(db_session, avatar, item_id)
        return photos.photo_read(await photos.set_primary(db_session, avatar, image, media))


VoiceSampleController = media_controller(
    VOICES,
    path="/avatars/{avatar_id:int}/voice-samples",
    tag="voice",
    read_type=VoiceSampleRead,
    detail_type=VoiceSampleRead,
    upload="Upload a recording (WAV, MP3, M4A, OGG/Opus, FLAC, WebM audio)",
)

ROUTES: list[type] = [PhotoController, VoiceSampleController]
