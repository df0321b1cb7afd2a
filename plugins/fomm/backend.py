"""fomm: the First Order Motion Model moves the photo with the motion of a driving video.

The default driver is the warp animator's own rendering of the reply (so FOMM follows the audio:
lips, blinks, head motion, emotion); `driving = "clip"` takes a video of the person talking instead
(a home video), looped. Motion is relative, as the official demo's `--relative --adapt_scale`: the
photo's keypoints move by the driver's displacement since its first frame, so the driver's face
shape never leaks into the photo. FOMM works at 256x256; frames are scaled to the call's size.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from plugins.warp.layered import OverWarp, official_checkpoint
from server.backends import AvatarFace, BackendInfo, BackendKind
from server.backends.neural import NeuralConfig, measure, settle_heap
from server.errors import BadInput
from server.media import AudioChunk, AvatarState, Emotion, VideoFrame

SIZE = 256
SOURCE = "https://github.com/AliaksandrSiarohin/first-order-model#pre-trained-checkpoint"
LICENCE = "non-commercial research use only (first-order-model's licence, CC BY-NC 4.0)"
WEIGHTS = {
    name: official_checkpoint("fomm", name, licence=LICENCE, source=SOURCE, check="plugins.fomm.network:check_file")
    for name in ("vox-adv-cpk.pth.tar", "vox-cpk.pth.tar")
}


class FommConfig(NeuralConfig, frozen=True, forbid_unknown_fields=True):
    """`[config.fomm]` in plugin_registry.toml."""

    checkpoint: Literal["vox-adv-cpk.pth.tar", "vox-cpk.pth.tar"] = "vox-adv-cpk.pth.tar"
    driving: Literal["warp", "clip"] = "warp"
    clip: str = ""  # with driving = "clip": a video file of the person talking (any format PyAV reads)
    adapt_movement_scale: bool = True


class FommAnimator(OverWarp):
    info = BackendInfo(
        name="fomm",
        kind=BackendKind.ANIMATOR,
        description="First Order Motion Model: the photo moves like the warp face (or a home video) moves.",
        device="any",
        realtime=False,
        weights=tuple(WEIGHTS.values()),
        requires=("torch",),
        install="pip install 'memoria[neural]'",
        config=FommConfig,
        docs="plugins/fomm/README.md",
    )
    options: FommConfig
    WEIGHTS = WEIGHTS

    def __init__(self, config: Mapping[str, Any] | FommConfig | None = None, *, weights_dir: Path | None = None):
        super().__init__(config, weights_dir=weights_dir)
        self.kp_detector: Any = None
        self.generator: Any = None
        self._sources: dict[tuple[str, tuple[int, int]], tuple[Any, Any]] = {}  # photo -> (image, keypoints)

    def render_variant(self) -> str:
        o = self.options
        driver = f"clip={Path(o.clip).name}" if o.driving == "clip" else self.base.render_variant()
        return f"{o.checkpoint};adapt={o.adapt_movement_scale};{driver}"

    async def load(self) -> None:
        if self.generator is not None:
            return
        from plugins.fomm.network import load_networks

        if self.options.driving == "clip" and not Path(self.options.clip).is_file():
            raise BadInput(f"[config.fomm] clip {self.options.clip!r} is not a file", hint="set clip to a video")
        self.use_device()
        self.kp_detector, self.generator = await asyncio.to_thread(load_networks, self.checkpoint_path, self.device)
        settle_heap()
        await self.base.load()
        still = np.zeros((1, SIZE, SIZE, 3), np.uint8)
        self.speed = await asyncio.to_thread(
            measure, lambda: self._render(still, self._keypoints(still), still), 1, device=self.device,
            setting=self.options.live, repeats=1,
        )  # fmt: skip

    async def aclose(self) -> None:
        self.kp_detector = self.generator = None
        self._sources.clear()
        await super().aclose()

    async def prepare(self, avatar: AvatarFace) -> None:
        await super().prepare(avatar)
        if self.generator is not None:
            await self._source(avatar)

    async def _source(self, avatar: AvatarFace) -> tuple[Any, Any]:
        """The photo as FOMM's source (framed like warp's frames, 256x256) and its keypoints."""
        key = (str(avatar.photo), avatar.size)
        if key not in self._sources:
            framed = await self.base.framed_photo(avatar)
            image = _resize(framed, SIZE)[None]
            self._sources[key] = (image, await asyncio.to_thread(self._keypoints, image))
        return self._sources[key]

    async def animate(
        self,
        audio: AsyncIterable[AudioChunk],
        *,
        avatar: AvatarFace,
        emotion: Emotion = Emotion.NEUTRAL,
        state: AvatarState = AvatarState.SPEAKING,
    ) -> AsyncIterator[VideoFrame]:
        if self.generator is None:
            await self.load()
        source, kp_source = await self._source(avatar)
        if self.options.driving == "clip":
            drivers: AsyncIterator[VideoFrame] = self._clip_frames(audio)
            first = await asyncio.to_thread(lambda: _resize(next(_decode(Path(self.options.clip))), SIZE)[None])
            kp_initial = await asyncio.to_thread(self._keypoints, first)
        else:
            drivers = self.base.animate(audio, avatar=avatar, emotion=emotion, state=state)
            kp_initial = kp_source  # warp's frames start from the framed photo itself
        batch: list[VideoFrame] = []
        async for frame in drivers:
            batch.append(frame)
            if len(batch) >= self.options.batch_size:
                for done in await asyncio.to_thread(self._follow, batch, source, kp_source, kp_initial, avatar.size):
                    yield done
                batch = []
        if batch:
            for done in await asyncio.to_thread(self._follow, batch, source, kp_source, kp_initial, avatar.size):
                yield done

    async def _clip_frames(self, audio: AsyncIterable[AudioChunk]) -> AsyncIterator[VideoFrame]:
        """One clip frame per 1/25 s of the reply's audio, the clip looped, numbered from its samples."""
        frames = _decode(Path(self.options.clip))
        pending, index = 0.0, None
        async for chunk in audio:
            if index is None:
                index = chunk.pts * 25 // chunk.sample_rate
            pending += len(chunk.samples) * 25 / chunk.sample_rate
            while pending >= 1:
                pending -= 1
                image = next(frames, None)
                if image is None:
                    frames = _decode(Path(self.options.clip))
                    image = next(frames)
                yield VideoFrame(image, index=index)
                index += 1

    def _follow(
        self, drivers: list[VideoFrame], source: np.ndarray, kp_source: Any, kp_initial: Any, size: tuple[int, int]
    ) -> list[VideoFrame]:
        """Render the photo moved like each driver frame; runs in a worker thread."""
        from plugins.fomm.motion import normalize_kp

        driving = np.stack([_resize(f.image, SIZE) for f in drivers])
        kp_driving = normalize_kp(
            kp_source=kp_source,
            kp_driving=self._keypoints(driving),
            kp_driving_initial=kp_initial,
            adapt_movement_scale=self.options.adapt_movement_scale,
            use_relative_movement=True,
            use_relative_jacobian=True,
        )
        images = self._render(source, kp_source, driving, kp_driving)
        return [VideoFrame(_resize_to(img, size), index=f.index) for f, img in zip(drivers, images, strict=True)]

    def _tensor(self, images: np.ndarray) -> Any:
        import torch

        return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).to(self.device).float() / 255.0

    def _keypoints(self, images: np.ndarray) -> Any:
        import torch

        with torch.inference_mode():
            return self.kp_detector(self._tensor(images))

    def _render(self, source: np.ndarray, kp_source: Any, driving: np.ndarray, kp_driving: Any = None) -> np.ndarray:
        """(B, 256, 256, 3) uint8 predictions for a batch of driving keypoints (default: the source's)."""
        import torch

        count = len(driving)
        kp_driving = kp_driving if kp_driving is not None else kp_source
        with torch.inference_mode():
            out = self.generator(
                self._tensor(source).expand(count, -1, -1, -1),
                kp_driving=kp_driving,
                kp_source={k: v.expand(count, *v.shape[1:]) for k, v in kp_source.items()},
            )["prediction"]
        images: np.ndarray = out.clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        return images


def _resize(image: np.ndarray, side: int) -> np.ndarray:
    import cv2

    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)


def _resize_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    return np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_CUBIC))


def _decode(path: Path) -> Iterator[np.ndarray]:
    """The clip's frames as RGB arrays (its own frame rate; most home videos are 25 or 30 fps)."""
    import av

    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="rgb24")
    except (av.error.FFmpegError, OSError) as exc:
        raise BadInput(f"the driving clip {path.name} cannot be read: {exc}", hint="use an MP4 or WebM video") from exc
