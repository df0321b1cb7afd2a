"""wav2lip: the warp animator's living face (head motion, blinks, idle, emotion), with Wav2Lip
repainting the lower face while the voice speaks.

Per frame of speech: the face box from the landmarks (the official padding, 10 px below the chin),
the box resized to 96x96, its lower half masked, and the official 0.2 s mel window for the frame;
the generated face is resized back and blended in over the mouth and jaw with a feathered mask,
its colours matched to the frame's, so no box edge or blur seam shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any, Literal

import numpy as np

from plugins.warp.layered import OverWarp, official_checkpoint
from plugins.wav2lip.paste import FaceBox, blend_mouth, face_box
from server.backends import AvatarFace, BackendInfo, BackendKind
from server.backends.neural import AudioTrack, NeuralConfig, measure, settle_heap
from server.media import AudioChunk, AvatarState, Emotion, VideoFrame
from server.media.types import VIDEO_FPS

SIZE = 96
MEL_RATE = 16000
MEL_COLUMNS_PER_S = 80.0
MEL_WINDOW = 16
STFT_MARGIN = 4  # mel columns the reflect padding at the end of the audio so far still changes
SILENT_RMS = 0.01  # below this a frame keeps warp's own mouth
SOURCE = "https://github.com/Rudrabha/Wav2Lip#getting-the-weights"
LICENCE = "research and non-commercial use only (Wav2Lip's licence); commercial use: contact its authors"


WEIGHTS = {
    name: official_checkpoint(
        "wav2lip", name, licence=LICENCE, source=SOURCE, check="plugins.wav2lip.network:check_file"
    )
    for name in ("wav2lip_gan.pth", "wav2lip.pth")
}


class Wav2LipConfig(NeuralConfig, frozen=True, forbid_unknown_fields=True):
    """`[config.wav2lip]` in plugin_registry.toml."""

    checkpoint: Literal["wav2lip_gan.pth", "wav2lip.pth"] = "wav2lip_gan.pth"  # GAN: sharper mouths
    pad_bottom: int = 10  # the official padding below the chin, pixels of the frame


class Wav2LipAnimator(OverWarp):
    info = BackendInfo(
        name="wav2lip",
        kind=BackendKind.ANIMATOR,
        description="Wav2Lip lip sync over the warp animator's living face; a GPU keeps it live.",
        device="any",
        realtime=False,  # on a GPU; measured at load (see `speed`)
        weights=tuple(WEIGHTS.values()),
        requires=("torch",),
        install="pip install 'memoria[neural]'",
        config=Wav2LipConfig,
        docs="plugins/wav2lip/README.md",
    )
    options: Wav2LipConfig
    WEIGHTS = WEIGHTS
    net: Any = None

    def render_variant(self) -> str:
        return f"{self.options.checkpoint};pad={self.options.pad_bottom};{self.base.render_variant()}"

    async def load(self) -> None:
        if self.net is not None:
            return
        from plugins.wav2lip.network import load_network

        self.use_device()
        net = await asyncio.to_thread(load_network, self.checkpoint_path, self.device)
        self.net = net.half() if self.device == "cuda" else net
        settle_heap()
        await self.base.load()
        batch = self.options.batch_size
        mel, faces = np.zeros((batch, 80, MEL_WINDOW), np.float32), np.zeros((batch, SIZE, SIZE, 6), np.float32)
        self.speed = await asyncio.to_thread(
            measure, lambda: self._generate(mel, faces), batch, device=self.device, setting=self.options.live
        )

    async def aclose(self) -> None:
        self.net = None
        await super().aclose()

    async def animate(
        self,
        audio: AsyncIterable[AudioChunk],
        *,
        avatar: AvatarFace,
        emotion: Emotion = Emotion.NEUTRAL,
        state: AvatarState = AvatarState.SPEAKING,
    ) -> AsyncIterator[VideoFrame]:
        if self.net is None:
            await self.load()
        marks = await self.base.landmarks_in_frame(avatar)
        box = face_box(marks, (avatar.size[1], avatar.size[0]), self.options.pad_bottom)
        track = AudioTrack(MEL_RATE)
        pending: list[VideoFrame] = []
        async for frame in self.base.animate(track.tee(audio), avatar=avatar, emotion=emotion, state=state):
            pending.append(frame)
            ready = self._ready(track, pending)
            while len(ready) >= self.options.batch_size or (ready and track.ended):
                batch, ready = ready[: self.options.batch_size], ready[self.options.batch_size :]
                pending = pending[len(batch) :]
                for done in await asyncio.to_thread(self._lipsync, batch, track, box):
                    yield done
        while pending:
            batch, pending = pending[: self.options.batch_size], pending[self.options.batch_size :]
            for done in await asyncio.to_thread(self._lipsync, batch, track, box):
                yield done

    def _ready(self, track: AudioTrack, frames: list[VideoFrame]) -> list[VideoFrame]:
        """The leading frames whose mel window the audio so far already fixes."""
        if track.ended:
            return list(frames)
        have = track.samples // 200 + 1 - STFT_MARGIN
        first = track.first_frame or 0
        ready = []
        for frame in frames:
            start = int((frame.index - first) * MEL_COLUMNS_PER_S / VIDEO_FPS)
            if start + MEL_WINDOW > have:
                break
            ready.append(frame)
        return ready

    def _lipsync(self, frames: list[VideoFrame], track: AudioTrack, box: FaceBox) -> list[VideoFrame]:
        """Repaint the mouth of the frames that have speech under them; runs in a worker thread."""
        from plugins.wav2lip.audio import melspectrogram

        first = track.first_frame or 0
        speaking = [f for f in frames if track.loudness(f.index - first) > SILENT_RMS]
        if not speaking:
            return frames
        audio = track.audio()
        minimum = int(MEL_WINDOW / MEL_COLUMNS_PER_S * MEL_RATE) + 400
        mel = melspectrogram(np.pad(audio, (0, max(0, minimum - len(audio)))))
        columns = mel.shape[1]
        windows, faces = [], []
        for frame in speaking:
            start = int((frame.index - first) * MEL_COLUMNS_PER_S / VIDEO_FPS)
            start = min(start, columns - MEL_WINDOW)  # the official loop ends on the mel's last window
            windows.append(mel[:, start : start + MEL_WINDOW])
            faces.append(box.network_input(frame.image, SIZE))
        generated = self._generate(np.stack(windows), np.stack(faces))
        painted = {
            f.index: VideoFrame(blend_mouth(f.image, g, box), index=f.index)
            for f, g in zip(speaking, generated, strict=True)
        }
        return [painted.get(f.index, f) for f in frames]

    def _generate(self, mel: np.ndarray, faces: np.ndarray) -> np.ndarray:
        """(B, 80, 16) mel windows + (B, 96, 96, 6) masked|reference BGR faces in [0, 1] -> (B, 96, 96, 3) RGB uint8."""
        import torch

        dtype = torch.float16 if self.device == "cuda" else torch.float32
        with torch.inference_mode():
            mel_t = torch.from_numpy(mel[:, None]).to(self.device, dtype)
            face_t = torch.from_numpy(np.ascontiguousarray(faces.transpose(0, 3, 1, 2))).to(self.device, dtype)
            out = self.net(mel_t, face_t).float().clamp(0, 1).mul(255).round().byte()
        bgr = out.permute(0, 2, 3, 1).cpu().numpy()
        return np.ascontiguousarray(bgr[..., ::-1])
