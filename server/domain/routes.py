"""The domain's HTTP routes, collected by `server.app`."""

from __future__ import annotations

from server.domain.controllers.auth import AuthController
from server.domain.controllers.avatars import AvatarController
from server.domain.controllers.media import PhotoController, VoiceSampleController
from server.domain.controllers.texts import MemoryController, PersonalityController
from server.domain.preparation import finish_media_jobs

ROUTES: list[type] = [
    AuthController,
    AvatarController,
    PhotoController,
    VoiceSampleController,
    PersonalityController,
    MemoryController,
]
LIFESPAN = [finish_media_jobs]  # background media jobs end before the database closes
