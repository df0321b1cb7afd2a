"""The render cache: sentences an avatar has already said, kept as audio and frames and played back
instead of rendered again (`store` on disk and in generated_videos, `cache` per call, `takes` for
sentences being rendered live, `renderer` for what a reply turn asks of it)."""
