"""sadtalker: SadTalker brings the photo to life from the voice alone: expression and eye blinks
from audio2exp, head motion from audio2pose, drawn by its face renderer.

Per photo, once (`prepare`): the face crop (the square SadTalker's cropper takes), its 3DMM
coefficients (Deep3DFaceRecon's alignment and `face_3drecon`) and its canonical keypoints. Per
sentence: the whole sentence's audio is read first, because audio2pose and the pose smoothing look
at all of it, then frames are rendered a batch at a time and pasted back into the framed photo with
a feathered edge. The sentence's audio seeds the pose and blinks, so a sentence renders the same way
every time (the render cache relies on that).
"""

from __future__ import annotations

import asyncio
import dataclasses
import zlib
from collections.abc import AsyncIterable, AsyncIterator
from typing import Annotated, Any, Literal

import msgspec
import numpy as np

from plugins.warp.layered import OverWarp, official_checkpoint
from server.backends import AvatarFace, BackendInfo, BackendKind, WeightSpec
from server.backends.neural import AudioTrack, NeuralConfig, measure, settle_heap
from server.media import AudioChunk, AvatarState, Emotion, VideoFrame
from server.media.types import VIDEO_FPS

SOURCE = "https://github.com/OpenTalker/SadTalker#-2-download-models"
LICENCE = "SadTalker's code is Apache-2.0; its released weights are for non-commercial research use"
MEL_RATE = 16000
FEATHER = 0.08  # the pasted crop fades into the frame over this share of its side
# A hand-set gain on the predicted expression per emotion: SadTalker learns no emotion of its own,
# so this only makes a happy sentence's face move more and a sad one's less.
EMOTION_SCALE = {
    Emotion.NEUTRAL: 1.0,
    Emotion.HAPPY: 1.15,
    Emotion.SURPRISED: 1.25,
    Emotion.SAD: 0.85,
    Emotion.THOUGHTFUL: 0.9,
}

_NETWORKS = ("SadTalker_V0.0.2_256.safetensors", "SadTalker_V0.0.2_512.safetensors")
_MAPPINGS = ("mapping_00229-model.pth.tar", "mapping_00109-model.pth.tar")
WEIGHTS: dict[str, WeightSpec] = {
    **{
        n: official_checkpoint(
            "sadtalker", n, licence=LICENCE, source=SOURCE, check="plugins.sadtalker.network:check_file"
        )
        for n in _NETWORKS
    },
    **{
        n: official_checkpoint(
            "sadtalker", n, licence=LICENCE, source=SOURCE, check="plugins.sadtalker.network:check_mapping_file"
        )
        for n in _MAPPINGS
    },
}


class SadTalkerConfig(NeuralConfig, frozen=True, forbid_unknown_fields=True):
    """`[config.sadtalker]` in plugin_registry.toml."""

    checkpoint: Literal["SadTalker_V0.0.2_256.safetensors", "SadTalker_V0.0.2_512.safetensors"] = _NETWORKS[0]
    # mapping_00229 reads the face's coefficients; mapping_00109 (the official 'full' mode) also its place in the photo
    mapping: Literal["mapping_00229-model.pth.tar", "mapping_00109-model.pth.tar"] = _MAPPINGS[0]
    pose_style: Annotated[int, msgspec.Meta(ge=0, le=45)] = 0  # one of the 46 learned head-motion styles
    expression_scale: Annotated[float, msgspec.Meta(ge=0.0, le=3.0)] = 1.0
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=128)] = 1  # larger batches are slower on a CPU


@dataclasses.dataclass(frozen=True)
class Photo:
    """The photo as the renderer reads it (prepared once per photo and frame size)."""

    framed: np.ndarray  # the call's still frame (H, W, 3) uint8, where the render is pasted
    box: Any  # preprocess.Box: the face crop in the frame
    source: Any  # [1, 3, S, S] tensor in [0, 1]
    coefficients: np.ndarray  # [73] the photo's expression, pose, translation and alignment
    canonical: Any  # [1, 15, 3] canonical keypoints
    kp_source: Any  # {"value": [1, 15, 3]}
    mask: np.ndarray  # (side, side, 1) float32 feathered paste mask


class SadTalkerAnimator(OverWarp):
    info = BackendInfo(
        name="sadtalker",
        kind=BackendKind.ANIMATOR,
        description="SadTalker: expression, blinks and head motion from the voice, drawn by its face renderer.",
        device="any",
        realtime=False,
        weights=tuple(WEIGHTS.values()),
        requires=("torch", "safetensors"),
        install="pip install 'memoria[neural]'",
        config=SadTalkerConfig,
        docs="plugins/sadtalker/README.md",
    )
    options: SadTalkerConfig
    WEIGHTS = WEIGHTS

    def __init__(self, config: Any = None, *, weights_dir: Any = None) -> None:
        super().__init__(config, weights_dir=weights_dir)
        self.networks: dict[str, Any] | None = None
        self._photos: dict[tuple[str, tuple[int, int]], Photo] = {}

    @classmethod
    def needed_weights(cls, options: Any) -> tuple[WeightSpec, ...]:
        return (cls.WEIGHTS[options.checkpoint], cls.WEIGHTS[options.mapping])

    @property
    def size(self) -> int:
        return 512 if "_512" in self.options.checkpoint else 256

    def render_variant(self) -> str:
        o = self.options
        return f"{o.checkpoint};{o.mapping};style={o.pose_style};scale={o.expression_scale}"

    async def load(self) -> None:
        if self.networks is not None:
            return
        from plugins.sadtalker.network import load_networks

        self.use_device()
        mapping = self.weights_dir / self.WEIGHTS[self.options.mapping].path
        networks = await asyncio.to_thread(load_networks, self.checkpoint_path, mapping, self.device)
        if self.device == "cuda":  # the renderer is most of the work; the small networks stay float32
            networks["generator"] = networks["generator"].half()
        self.networks = networks
        settle_heap()
        await self.base.load()
        if self.options.live == "never":  # told not to be live: nothing to measure
            return
        still = self._still()
        windows = np.zeros((self.options.batch_size, self._coeff_nc(), 27), np.float32)
        self.speed = await asyncio.to_thread(
            measure, lambda: self._render(still, windows), self.options.batch_size, device=self.device,
            setting=self.options.live, repeats=1,
        )  # fmt: skip

    async def aclose(self) -> None:
        self.networks = None
        self._photos.clear()
        await super().aclose()

    async def prepare(self, avatar: AvatarFace) -> None:
        await super().prepare(avatar)
        if self.networks is not None:
            await self._photo(avatar)

    async def animate(
        self,
        audio: AsyncIterable[AudioChunk],
        *,
        avatar: AvatarFace,
        emotion: Emotion = Emotion.NEUTRAL,
        state: AvatarState = AvatarState.SPEAKING,
    ) -> AsyncIterator[VideoFrame]:
        from plugins.sadtalker.drive import SAMPLES_PER_FRAME, blinks, coefficients, mel_windows, semantics

        if self.networks is None:
            await self.load()
        photo = await self._photo(avatar)
        track, received = AudioTrack(MEL_RATE), 0
        async for chunk in audio:
            track.add(chunk)
            received += len(chunk.samples)
        track.finish()
        if track.first_frame is None:
            return
        frames = received * VIDEO_FPS // track.source_rate
        if frames == 0:
            return
        wav = track.audio()[: frames * SAMPLES_PER_FRAME]
        wav = np.pad(wav, (0, frames * SAMPLES_PER_FRAME - len(wav)))
        seed = zlib.crc32(np.round(wav * 32767).astype(np.int16).tobytes()) ^ self.options.pose_style
        networks = self.networks

        def drive() -> np.ndarray:
            mels = mel_windows(wav)
            ratio = blinks(frames, np.random.default_rng(seed))
            per_frame = coefficients(networks, mels, photo.coefficients, ratio, self.options.pose_style, seed)
            per_frame[:, :64] *= self.options.expression_scale * EMOTION_SCALE.get(emotion, 1.0)
            return semantics(per_frame, photo.coefficients, self._coeff_nc())[1]

        windows = await asyncio.to_thread(drive)
        first, step = track.first_frame, self.options.batch_size
        for start in range(0, frames, step):
            images = await asyncio.to_thread(self._render, photo, windows[start : start + step])
            for offset, image in enumerate(images):
                yield VideoFrame(image, index=first + start + offset)

    def _coeff_nc(self) -> int:
        return 73 if self.options.mapping == _MAPPINGS[1] else 70

    async def _photo(self, avatar: AvatarFace) -> Photo:
        key = (str(avatar.photo), avatar.size)
        if key not in self._photos:
            framed = await self.base.framed_photo(avatar)
            marks = await self.base.landmarks_in_frame(avatar)
            self._photos[key] = await asyncio.to_thread(self._prepare_photo, framed, marks)
        return self._photos[key]

    def _prepare_photo(self, framed: np.ndarray, marks: np.ndarray) -> Photo:
        """Crop, align and reconstruct the photo's face; runs in a worker thread."""
        import cv2
        import torch

        from plugins.sadtalker.drive import keypoints, semantics
        from plugins.sadtalker.preprocess import (
            align,
            crop_box,
            fit_mean_shape,
            five_points,
            recon_input,
            source_coefficients,
        )

        assert self.networks is not None
        size = self.size
        points = five_points(marks)
        box = crop_box(points, framed.shape[1], framed.shape[0])
        crop = cv2.resize(box.crop(framed), (size, size), interpolation=cv2.INTER_AREA)
        in_crop = (points - (box.x, box.y)) * (size / box.side)
        aligned, trans_params = align(crop, *fit_mean_shape(in_crop, size))
        with torch.inference_mode():
            recon = self.networks["face_3drecon"](torch.from_numpy(recon_input(aligned)).to(self.device))
            coeffs = source_coefficients(recon.float().cpu().numpy(), trans_params)
            source = self._tensor(crop)
            canonical = self.networks["kp_extractor"](source)["value"]
            src_windows = torch.from_numpy(semantics(coeffs[None, :70], coeffs, self._coeff_nc())[0]).to(self.device)
            kp_source = keypoints(self.networks, canonical, src_windows)
        return Photo(framed, box, source, coeffs, canonical, kp_source, _feathered(box.side))

    def _still(self) -> Photo:
        """A grey photo filling the crop, for measuring the speed at load."""
        import torch

        from plugins.sadtalker.drive import keypoints
        from plugins.sadtalker.preprocess import Box

        assert self.networks is not None
        side = self.size
        framed = np.full((side, side, 3), 128, np.uint8)
        source = self._tensor(framed)
        with torch.inference_mode():
            canonical = self.networks["kp_extractor"](source)["value"]
            kp_source = keypoints(self.networks, canonical, torch.zeros(1, self._coeff_nc(), 27, device=self.device))
        return Photo(framed, Box(0, 0, side), source, np.zeros(73, np.float32), canonical, kp_source, _feathered(side))

    def _tensor(self, image: np.ndarray) -> Any:
        import torch

        array = np.ascontiguousarray(image.transpose(2, 0, 1)[None], np.float32) / 255.0
        return torch.from_numpy(array).to(self.device)

    def _render(self, photo: Photo, windows: np.ndarray) -> list[np.ndarray]:
        """Frames (the call's size, uint8) for [B, nc, 27] coefficient windows; a worker thread."""
        import torch

        from plugins.sadtalker.drive import keypoints

        assert self.networks is not None
        count = len(windows)
        generator = self.networks["generator"]
        dtype = next(generator.parameters()).dtype
        with torch.inference_mode():
            kp_driving = keypoints(self.networks, photo.canonical, torch.from_numpy(windows).to(self.device))
            out = generator(
                photo.source.expand(count, -1, -1, -1).to(dtype),
                kp_source={"value": photo.kp_source["value"].expand(count, -1, -1).to(dtype)},
                kp_driving={"value": kp_driving["value"].to(dtype)},
            )["prediction"]
            rendered = out.float().clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        return [_paste(photo, image) for image in rendered]


def _feathered(side: int) -> np.ndarray:
    """(side, side, 1): 1 inside, falling smoothly to 0 at the crop's edges."""
    ramp = np.clip(np.minimum(np.arange(side), np.arange(side)[::-1]) / max(1.0, FEATHER * side), 0, 1)
    ramp = ramp * ramp * (3 - 2 * ramp)  # smoothstep: no visible line where the fade starts
    return (ramp[:, None] * ramp[None, :])[..., None].astype(np.float32)


def _paste(photo: Photo, rendered: np.ndarray) -> np.ndarray:
    """The framed photo with the rendered face crop blended in (RGB uint8)."""
    import cv2

    box, side = photo.box, photo.box.side
    patch = cv2.resize(rendered, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    region = box.crop(photo.framed).astype(np.float32)
    out = photo.framed.copy()
    blended = region * (1 - photo.mask) + patch * photo.mask
    out[box.y : box.y + side, box.x : box.x + side] = np.clip(blended, 0, 255).astype(np.uint8)
    return out
