"""What the photo and voice sample endpoints take and give."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.domain.schemas import Output


class PhotoRead(Output, kw_only=True):
    id: int
    width: int
    height: int
    is_primary: bool
    quality_score: float
    quality: dict[str, Any]  # the parts of the score and advice for a better photo
    bbox: list[float]
    landmark_count: int
    created_at: datetime


class PhotoDetail(PhotoRead, kw_only=True):
    landmarks: list[list[float]]  # [x, y] in pixels of the stored image


class VoiceSampleRead(Output, kw_only=True):
    id: int
    original_name: str
    duration_s: float
    sample_rate: int
    created_at: datetime
