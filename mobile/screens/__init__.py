"""One module per screen; `SCREENS` lists them in the order the ScreenManager gets them."""

from __future__ import annotations

SCREENS: tuple[str, ...] = (
    "mobile.screens.login:LoginScreen",
    "mobile.screens.gallery:GalleryScreen",
    "mobile.screens.avatar_edit:AvatarEditScreen",
    "mobile.screens.call:CallScreen",
    "mobile.screens.rating:RatingScreen",
    "mobile.screens.history:HistoryScreen",
    "mobile.screens.transcript:TranscriptScreen",
)
