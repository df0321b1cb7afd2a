"""`memoria bench animator --photo FILE --audio FILE.wav`: speed, lip sync, identity and stability.

The photo is analysed as an upload would be, the audio is streamed to the animator in 100 ms
chunks, and the output frames are measured: landmarks are found again on every frame (mediapipe,
video mode) to get the mouth opening and jitter, and dlib's face embedding compares every 5th
frame with the photo. OpenCV runs on one thread so `ms_per_frame` is CPU time on one core.
"""

from __future__ import annotations

import asyncio
import json
import time
import wave
from pathlib import Path
from typing import Any

import click
import numpy as np

CHUNK_S = 0.1
OTHER_SENTENCES = 5  # mismatch: the loudness of this many other stretches of the audio


@click.command()
@click.option("--photo", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option(
    "--audio", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True, help="WAV, 20 s or more."
)
@click.option("--backend", "--animator", "backend_name", default="warp", show_default=True, help="Any animator.")
@click.option("--size", default="512x512", show_default=True, help="Output WIDTHxHEIGHT, e.g. 1280x720.")
@click.option("--emotion", default="neutral", show_default=True)
@click.option(
    "--sheet", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Save a PNG contact sheet here."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(
    photo: Path, audio: Path, backend_name: str, size: str, emotion: str, sheet: Path | None, as_json: bool
) -> None:
    """Render AUDIO on PHOTO and print ms_per_frame, fps, sync_z, sync_mismatch_z, identity_distance, jitter_px."""
    import cv2

    cv2.setNumThreads(1)
    width, _, height = size.partition("x")
    result = asyncio.run(_run(photo, audio, backend_name, (int(width), int(height)), emotion, sheet))
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key}: {value}")


async def _run(
    photo: Path, audio_path: Path, backend_name: str, size: tuple[int, int], emotion: str, sheet: Path | None
) -> dict[str, Any]:
    import tempfile

    from PIL import Image

    from server.backends import AvatarFace
    from server.face.analysis import analyze_photo
    from server.media import AudioChunk, AvatarState, Emotion

    rgb = np.asarray(Image.open(photo).convert("RGB"))
    analysis = analyze_photo(rgb)
    audio, rate = _read_wav(audio_path)
    backend = _backend(backend_name)
    await backend.load()
    with tempfile.TemporaryDirectory() as cache:
        avatar = AvatarFace(
            photo=photo, landmarks=tuple((x, y) for x, y in analysis.landmarks), cache_dir=Path(cache), size=size
        )
        t0 = time.perf_counter()
        await backend.prepare(avatar)
        prepare_ms = (time.perf_counter() - t0) * 1000
        step = int(rate * CHUNK_S)

        async def chunks() -> Any:
            for at in range(0, len(audio), step):
                yield AudioChunk.from_float(audio[at : at + step], rate, pts=at)

        frames = []
        cpu0, wall0 = time.process_time(), time.perf_counter()
        async for frame in backend.animate(
            chunks(), avatar=avatar, emotion=Emotion(emotion), state=AvatarState.SPEAKING
        ):
            frames.append(frame.image)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await backend.aclose()
    measured = _measure(frames, audio, rate, rgb)
    if sheet is not None:
        _contact_sheet(frames, sheet)
    return {
        "backend": backend_name,
        "size": f"{size[0]}x{size[1]}",
        "frames": len(frames),
        "audio_s": round(len(audio) / rate, 2),
        "ms_per_frame": round(cpu / max(len(frames), 1) * 1000, 2),
        "fps": round(len(frames) / max(wall, 1e-9), 1),
        "prepare_ms": round(prepare_ms, 1),
        **measured,
        "photo_quality": analysis.quality_score,
    }


def _measure(frames: list[np.ndarray], audio: np.ndarray, rate: int, photo: np.ndarray) -> dict[str, Any]:
    from server.face import metrics
    from server.face.mesh import FaceTracker

    tracker = FaceTracker()
    tracks: list[np.ndarray] = []
    lost = 0
    for image in frames:
        pts = tracker(image)
        if pts is None:
            lost += 1
            pts = tracks[-1] if tracks else np.zeros((478, 3))
        tracks.append(pts)
    tracker.close()
    track = np.array(tracks)[:, :, :2]
    opening = metrics.mouth_opening(track)
    loud = metrics.frame_loudness(audio, rate, len(frames))
    z, r, null = metrics.sync_z(opening, loud)
    n = len(frames)
    others = [np.roll(loud, n * k // (OTHER_SENTENCES + 1)) for k in range(1, OTHER_SENTENCES + 1)]
    still = metrics.still_frames(opening)
    open_speech, open_silent = metrics.articulation(metrics.mouth_gap_ratio(track), loud)
    out: dict[str, Any] = {
        "mouth_open_p90": open_speech,  # inner-lip gap / mouth width, 90th percentile over speech frames
        "mouth_open_p90_silent": open_silent,
        "sync_z": round(z, 2),
        "sync_r": round(r, 3),
        "sync_mismatch_z": round(metrics.mismatch_z(opening, others, null), 2),
        "jitter_px": round(metrics.jitter_px(track, still), 3),
        "still_frames": len(still),
        "motion_px": round(metrics.motion_px(track, still), 3),
        "lost_frames": lost,
        "mouth_opening_range": [
            round(float(np.percentile(opening, 5)), 3),
            round(float(np.percentile(opening, 95)), 3),
        ],
    }
    out.update(_identity(frames, photo))
    return out


def _identity(frames: list[np.ndarray], photo: np.ndarray) -> dict[str, Any]:
    from server.errors import DependencyMissing
    from server.face.identity import FaceEmbedder, distance

    try:
        embedder = FaceEmbedder()
    except DependencyMissing as exc:
        return {"identity_distance": None, "identity_note": str(exc)}
    source = embedder.embed(photo, upsample=1)
    if source is None:
        return {"identity_distance": None, "identity_note": "dlib finds no face in the photo"}
    dists, missed = [], 0
    for i in range(0, len(frames), 5):
        emb = embedder.embed(frames[i])
        if emb is None:
            missed += 1
        else:
            dists.append(distance(source, emb))
    if not dists:
        return {"identity_distance": None, "identity_note": "dlib finds no face in the frames"}
    return {
        "identity_distance": round(float(np.mean(dists)), 3),
        "identity_max": round(float(np.max(dists)), 3),
        "identity_missed": missed,
    }


def _backend(name: str) -> Any:
    from server.backends import BackendKind
    from server.errors import ConfigError

    try:
        from server.registry import Registry
        from server.settings import load_settings

        settings = load_settings()
        registry = Registry.from_file(settings.registry_file, weights_dir=settings.weights_dir)
        return registry.create(BackendKind.ANIMATOR, name)
    except ConfigError:
        if name != "warp":
            raise
        from plugins.warp.backend import WarpAnimator  # not registered yet: the bundled default

        return WarpAnimator({})


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    if width != 2:
        raise click.ClickException(f"{path}: only 16-bit PCM WAV is supported")
    pcm = np.frombuffer(raw, np.int16).reshape(-1, channels).mean(axis=1)
    return (pcm / 32768.0).astype(np.float32), rate


def _contact_sheet(frames: list[np.ndarray], path: Path, count: int = 24, cols: int = 6) -> None:
    """Every len/count-th frame in a grid, each labelled with its index (for looking, not for metrics)."""
    import cv2
    from PIL import Image

    picks = np.linspace(0, len(frames) - 1, min(count, len(frames))).astype(int)
    tiles = []
    for i in picks:
        tile = cv2.resize(
            frames[i], (256, 256 * frames[i].shape[0] // frames[i].shape[1]), interpolation=cv2.INTER_AREA
        )
        cv2.putText(tile, str(i), (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0), 2)
        tiles.append(tile)
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.concatenate(tiles[r : r + cols], axis=1) for r in range(0, len(tiles), cols)]
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)
