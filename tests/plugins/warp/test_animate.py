"""The warp animator keeps the AnimatorBackend contract and its face responds to what drives it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from plugins.warp.backend import WarpAnimator
from server.backends import AvatarFace
from server.errors import BadInput, NotFound
from server.face.analysis import analyze_photo, mouth_open_ratio
from server.media import AudioChunk, AvatarState, Emotion, PhonemeTiming, VideoFrame
from tests.plugins.warp.conftest import chunks, speech_like

Avatar = Callable[..., AvatarFace]


async def run(animator: WarpAnimator, audio_iter: object, avatar: AvatarFace, **kw: object) -> list[VideoFrame]:
    return [f async for f in animator.animate(audio_iter, avatar=avatar, **kw)]  # type: ignore[arg-type]


def opening(frame: VideoFrame) -> float:
    pts = np.array(analyze_photo(frame.image).landmarks)
    return mouth_open_ratio(pts)


@pytest.mark.parametrize(("rate", "step"), [(16000, 320), (22050, 1000), (44100, 333)])
async def test_one_frame_per_40_ms_numbered_from_the_audio_pts(make_avatar: Avatar, rate: int, step: int) -> None:
    animator = WarpAnimator({})
    audio = speech_like(1.3, rate)
    start = 2 * rate  # the stream is already 2 s old
    frames = await run(animator, chunks(audio, rate, step=step, pts=start), make_avatar())
    assert [f.index for f in frames] == list(range(50, 50 + 33))  # 1.3 s: 32.5 frames, the last one partial
    assert all(f.image.shape == (512, 512, 3) and f.image.dtype == np.uint8 for f in frames)


async def test_720p_output(make_avatar: Avatar) -> None:
    frames = await run(WarpAnimator({}), chunks(speech_like(0.2), 16000), make_avatar(size=(1280, 720)))
    assert frames[0].image.shape == (720, 1280, 3)


async def test_speech_opens_the_mouth_and_silence_keeps_it_closed(make_avatar: Avatar) -> None:
    rate = 16000
    audio = np.concatenate([np.zeros(rate, np.float32), speech_like(2.0, rate, seed=3)])
    frames = await run(WarpAnimator({}), chunks(audio, rate), make_avatar())
    loud = [float(np.sqrt(np.mean(audio[i * 640 : (i + 1) * 640] ** 2))) for i in range(len(frames))]
    quiet = [opening(frames[i]) for i in (5, 12, 20)]
    speaking = [opening(frames[i]) for i in np.argsort(loud)[-4:]]
    assert max(quiet) < 0.06
    assert min(speaking) > max(quiet) + 0.08


async def test_a_silent_face_is_still_alive(make_avatar: Avatar) -> None:
    frames = await run(
        WarpAnimator({}), chunks(np.zeros(16000 * 4, np.float32), 16000), make_avatar(), state=AvatarState.IDLE
    )
    diffs = [np.abs(frames[0].image.astype(int) - f.image.astype(int)).mean() for f in frames[10::10]]
    assert max(diffs) > 0.5  # breathing, sway and blinks move it
    steps = [np.abs(a.image.astype(int) - b.image.astype(int)).mean() for a, b in itertools.pairwise(frames)]
    assert max(steps) < 12  # ...smoothly: no frame jumps


async def test_phonemes_close_the_lips_on_m_and_open_them_on_a(make_avatar: Avatar) -> None:
    rate = 16000
    audio = 0.2 * np.sin(2 * np.pi * 150 * np.arange(int(rate * 1.6)) / rate).astype(np.float32)  # steady hum
    phonemes = tuple(
        PhonemeTiming(p, 0.2 + 0.2 * i, 0.4 + 0.2 * i) for i, p in enumerate(["m", "ɑ", "m", "ɑ", "m", "ɑ"])
    )
    frames = await run(WarpAnimator({}), chunks(audio, rate, phonemes=phonemes), make_avatar())
    at = {round(f.index / 25, 2): f for f in frames}
    closed = [opening(at[t]) for t in (0.28, 0.68, 1.08)]  # middles of the m's (less the lead)
    open_ = [opening(at[t]) for t in (0.48, 0.88, 1.28)]
    assert max(closed) < 0.06 and min(open_) > 0.15


async def test_states_and_emotions_change_the_face(make_avatar: Avatar) -> None:
    silence = np.zeros(16000 * 2, np.float32)
    avatar = make_avatar()
    looks = {}
    for state in (AvatarState.IDLE, AvatarState.LISTENING, AvatarState.THINKING):
        looks[state.value] = (await run(WarpAnimator({}), chunks(silence, 16000), avatar, state=state))[-1].image
    for emotion in (Emotion.HAPPY, Emotion.SAD, Emotion.SURPRISED):
        looks[emotion.value] = (
            await run(WarpAnimator({}), chunks(silence, 16000), avatar, emotion=emotion, state=AvatarState.IDLE)
        )[-1].image
    names = list(looks)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(looks[a].astype(int) - looks[b].astype(int)).mean() > 0.4, f"{a} looks like {b}"


async def test_emotion_changes_blend_across_replies(make_avatar: Avatar) -> None:
    animator = WarpAnimator({})
    avatar = make_avatar()
    rate = 16000
    first = await run(animator, chunks(np.zeros(rate, np.float32), rate), avatar, emotion=Emotion.NEUTRAL)
    second = await run(animator, chunks(np.zeros(rate, np.float32), rate, pts=rate), avatar, emotion=Emotion.SURPRISED)
    assert second[0].index == first[-1].index + 1
    jump = np.abs(first[-1].image.astype(int) - second[0].image.astype(int)).mean()
    settled = np.abs(first[-1].image.astype(int) - second[-1].image.astype(int)).mean()
    assert jump < settled / 3  # the brows rise over several frames, not at once


async def test_prepare_caches_the_rig_on_disk_and_survives_a_damaged_cache(make_avatar: Avatar, tmp_path: Path) -> None:
    avatar = make_avatar()
    await WarpAnimator({}).prepare(avatar)
    files = list((tmp_path / "cache").glob("warp-rig-*.npz"))
    assert len(files) == 1
    reference = (await run(WarpAnimator({}), chunks(np.zeros(3200, np.float32), 16000), avatar))[0].image
    files[0].write_bytes(b"garbage")
    again = (await run(WarpAnimator({}), chunks(np.zeros(3200, np.float32), 16000), avatar))[0].image
    assert np.array_equal(reference, again)  # rebuilt, same picture (life is seeded per photo)


async def test_photo_without_landmarks_is_analysed_and_one_without_a_face_refused(
    make_avatar: Avatar, tmp_path: Path
) -> None:
    frames = await run(
        WarpAnimator({}), chunks(np.zeros(1600, np.float32), 16000), make_avatar(landmarks=False, cache=False)
    )
    assert len(frames) == 3
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((300, 300, 3), 200, np.uint8)).save(blank)
    with pytest.raises(BadInput, match="no face"):
        await WarpAnimator({}).prepare(AvatarFace(photo=blank))
    with pytest.raises(NotFound):
        await WarpAnimator({}).prepare(AvatarFace(photo=tmp_path / "missing.jpg"))


async def test_frames_come_before_the_audio_ends(make_avatar: Avatar) -> None:
    """Bounded look-ahead: a frame is drawn as soon as one more frame of audio has arrived."""
    rate = 16000
    gate = asyncio.Event()

    async def slow() -> object:
        yield AudioChunk.from_float(speech_like(1.0, rate), rate, pts=0)
        await gate.wait()
        yield AudioChunk.from_float(np.zeros(rate, np.float32), rate, pts=rate)

    seen: list[int] = []

    async def consume() -> None:
        async for frame in WarpAnimator({}).animate(slow(), avatar=make_avatar()):  # type: ignore[arg-type]
            seen.append(frame.index)

    task = asyncio.create_task(consume())
    for _ in range(200):
        await asyncio.sleep(0.01)
        if len(seen) >= 24:
            break
    assert len(seen) == 24  # 25 frames of audio in, one held back for look-ahead
    gate.set()
    await task
    assert seen == list(range(50))


async def test_cancel_and_close(make_avatar: Avatar) -> None:
    animator = WarpAnimator({})

    async def stalls() -> object:
        yield AudioChunk.from_float(np.zeros(1600, np.float32), 16000, pts=0)
        await asyncio.Event().wait()  # the voice stalls: the animator waits for audio
        yield AudioChunk.from_float(np.zeros(1600, np.float32), 16000, pts=1600)

    stream = animator.animate(stalls(), avatar=make_avatar())  # type: ignore[arg-type]
    first = await anext(stream)
    assert first.index == 0  # frames 1 and 2 wait for more audio (look-ahead)
    task = asyncio.create_task(anext(stream))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await stream.aclose()
    await animator.aclose()
    await animator.aclose()  # idempotent
    assert animator.closed


@pytest.mark.parametrize("kind", ["large", "upscaled"])
async def test_large_and_upscaled_photos_animate(head: np.ndarray, tmp_path: Path, kind: str) -> None:
    import cv2
    from PIL import Image

    if kind == "large":  # a 2400 px photo is framed down to 512 px
        photo = cv2.resize(head, (2400, 2400), interpolation=cv2.INTER_CUBIC)
    else:  # a small, soft photo blown up
        photo = cv2.resize(
            cv2.resize(head, (150, 150), interpolation=cv2.INTER_AREA), (360, 360), interpolation=cv2.INTER_CUBIC
        )
    path = tmp_path / f"{kind}.jpg"
    Image.fromarray(photo).save(path, quality=92)
    avatar = AvatarFace(photo=path, cache_dir=tmp_path / "cache")
    frames = await run(WarpAnimator({}), chunks(speech_like(0.6), 16000), avatar)
    assert len(frames) == 15
    found = analyze_photo(frames[-1].image)  # still one clear face, about 40 % of the frame wide
    x0, _, x1, _ = found.bbox
    assert 0.3 * 512 < x1 - x0 < 0.5 * 512


async def test_later_replies_reuse_the_prepared_rig(make_avatar: Avatar, tmp_path: Path) -> None:
    animator = WarpAnimator({})
    avatar = make_avatar(landmarks=False, cache=False)  # without landmarks the first call analyses the photo
    first_key, first_rig = await asyncio.to_thread(animator._rig, avatar)
    key, rig = await asyncio.to_thread(animator._rig, avatar)
    assert (key, rig) == (first_key, first_rig)  # the same object: answered from memory
    assert len(animator._keys) == 1
    # A new photo at the same path is noticed (its size and time change).
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(np.asarray(Image.open(avatar.photo))[:, ::-1])).save(avatar.photo)
    key2, _ = await asyncio.to_thread(animator._rig, avatar)
    assert key2 != key
