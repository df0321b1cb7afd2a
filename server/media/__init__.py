"""Media values that flow through a call, and the helpers that convert them."""

from server.media.types import (
    AudioChunk,
    AvatarState,
    Emotion,
    PhonemeTiming,
    TextDelta,
    Transcript,
    VideoFrame,
)

__all__ = [
    "AudioChunk",
    "AvatarState",
    "Emotion",
    "PhonemeTiming",
    "TextDelta",
    "Transcript",
    "VideoFrame",
]
