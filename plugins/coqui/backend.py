"""XTTS-v2 voice cloning through coqui-tts (module `TTS`): clones from the person's samples, streams audio.

Meant for a CUDA box: on this project's CPU machines the package does not import (torchaudio
mismatch) and the weights are not redistributable, so `status()` says what to install and where
to put which file.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import aclosing
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import numpy as np

from server.backends import BackendInfo, BackendKind, BackendStatus, Readiness, VoiceBackend, VoiceProfile, WeightSpec
from server.backends.config import options_for
from server.errors import BadInput, DependencyMissing, WeightsMissing
from server.media import AudioChunk
from server.speech.threaded import iterate_in_thread

MODEL_DIR = "coqui/xtts_v2"
FILES = ("model.pth", "config.json", "vocab.json", "speakers_xtts.pth")
OUTPUT_RATE = 24000
INSTALL = "pip install coqui-tts==0.28.0 (on a CUDA box, with the torch and torchaudio builds it names for your CUDA)"
IMPORT_FIX = f"memoria weights import DIR, where DIR holds the XTTS-v2 files {', '.join(FILES)} (they go to weights/{MODEL_DIR}/)"


class CoquiConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`[config.coqui]` in plugin_registry.toml."""

    device: str = "cuda"
    language: str = "en"
    stream_chunk_size: int = 20  # GPT tokens per streamed chunk: smaller = earlier first audio
    temperature: float = 0.75
    model_dir: str = MODEL_DIR  # under the weights directory


def _tensor_to_b64(values: Any) -> dict[str, Any]:
    array = np.asarray(values.detach().cpu().float().numpy() if hasattr(values, "detach") else values, dtype=np.float32)
    return {"shape": list(array.shape), "data": base64.b64encode(array.astype(np.float16).tobytes()).decode("ascii")}


def _b64_to_array(blob: Mapping[str, Any]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(blob["data"]), dtype=np.float16).astype(np.float32).reshape(blob["shape"])


class XTTSVoiceBackend(VoiceBackend):
    """Zero-shot cloning of the person's voice with XTTS-v2, streamed as it is generated."""

    info: ClassVar[BackendInfo] = BackendInfo(
        name="coqui",
        kind=BackendKind.VOICE,
        description="Coqui XTTS-v2 voice cloning from the avatar's samples, streaming (GPU)",
        streaming=True,
        device="cuda",
        realtime=True,
        weights=tuple(
            WeightSpec(
                path=f"{MODEL_DIR}/{name}",
                model="xtts-v2",
                licence="CPML (Coqui Public Model License 1.0.0, non-commercial)",
                source=f"coqui/XTTS-v2 model repository ({name})",
                fetch=IMPORT_FIX,
            )
            for name in FILES
        ),
        requires=("TTS", "torch"),
        install=INSTALL,
        config=CoquiConfig,
        docs="plugins/coqui/README.md",
    )
    options: CoquiConfig

    def __init__(
        self, config: Mapping[str, Any] | CoquiConfig | None = None, *, weights_dir: Path | None = None
    ) -> None:
        super().__init__(config, weights_dir=weights_dir)
        self._model: Any = None
        self._lock = asyncio.Lock()
        self._latents: dict[tuple[Path, ...], dict[str, Any]] = {}

    @classmethod
    def needed_weights(cls, options: CoquiConfig) -> tuple[WeightSpec, ...]:
        if options.model_dir == MODEL_DIR:
            return cls.info.weights
        return tuple(WeightSpec(path=f"{options.model_dir}/{name}", fetch=IMPORT_FIX) for name in FILES)

    @classmethod
    def status(cls, weights_dir: Path, config: Mapping[str, Any] | CoquiConfig | None = None) -> BackendStatus:
        base = super().status(weights_dir, config)
        if base.state is Readiness.MISSING_WEIGHTS:
            model_dir = weights_dir / options_for(cls.info, config).model_dir
            absent = [name for name in FILES if not (model_dir / name).is_file()]
            return BackendStatus(
                Readiness.MISSING_WEIGHTS, detail=f"not found in {model_dir}: {', '.join(absent)}", fix=IMPORT_FIX
            )
        return base

    @property
    def model_dir(self) -> Path:
        return self.weights_dir / self.options.model_dir

    async def load(self) -> None:
        async with self._lock:
            if self._model is None:
                self._model = await asyncio.to_thread(self._load_model)

    def _load_model(self) -> Any:
        absent = [name for name in FILES if not (self.model_dir / name).is_file()]
        if absent:
            raise WeightsMissing(f"XTTS-v2 files missing in {self.model_dir}: {', '.join(absent)}", hint=IMPORT_FIX)
        try:
            from TTS.tts.configs.xtts_config import XttsConfig
            from TTS.tts.models.xtts import Xtts
        except ImportError as exc:  # includes the torchaudio mismatch on CPU-only torch builds
            raise DependencyMissing(f"coqui-tts cannot be imported: {exc}", hint=INSTALL) from exc
        config = XttsConfig()
        config.load_json(str(self.model_dir / "config.json"))
        model = Xtts.init_from_config(config)
        model.load_checkpoint(config, checkpoint_dir=str(self.model_dir), use_deepspeed=False, eval=True)
        if self.options.device.startswith("cuda"):
            model.cuda()
        return model

    async def learn(self, samples: tuple[Path, ...]) -> Mapping[str, Any]:
        """XTTS conditioning latents of the person's samples (computed once, stored as float16)."""
        if not samples:
            return {}
        await self.load()
        return await asyncio.to_thread(self._conditioning, samples)

    def _conditioning(self, samples: tuple[Path, ...]) -> dict[str, Any]:
        missing = [str(p) for p in samples if not Path(p).is_file()]
        if missing:
            raise BadInput(f"voice samples not found: {', '.join(missing)}")
        gpt_cond_latent, speaker_embedding = self._model.get_conditioning_latents(audio_path=[str(p) for p in samples])
        return {
            "method": "xtts-v2-latents",
            "gpt_cond_latent": _tensor_to_b64(gpt_cond_latent),
            "speaker_embedding": _tensor_to_b64(speaker_embedding),
        }

    async def synthesize(self, text: str, *, voice: VoiceProfile) -> AsyncIterator[AudioChunk]:
        await self.load()
        learned = dict(voice.learned)
        if learned.get("method") != "xtts-v2-latents":
            if not voice.samples:
                raise BadInput(
                    "XTTS needs the person's voice samples to clone from", hint="upload voice samples for this avatar"
                )
            if voice.samples not in self._latents:
                self._latents[voice.samples] = await asyncio.to_thread(self._conditioning, voice.samples)
            learned = self._latents[voice.samples]
        pts = 0
        async with aclosing(iterate_in_thread(lambda: self._stream(text, learned))) as stream:
            async for wav in stream:
                chunk = AudioChunk.from_float(wav, OUTPUT_RATE, pts=pts)
                pts += len(chunk.samples)
                yield chunk

    def _stream(self, text: str, learned: Mapping[str, Any]) -> Iterator[np.ndarray]:
        import torch

        device = next(iter(self._model.parameters())).device if hasattr(self._model, "parameters") else "cpu"
        gpt = torch.from_numpy(_b64_to_array(learned["gpt_cond_latent"])).to(device)
        spk = torch.from_numpy(_b64_to_array(learned["speaker_embedding"])).to(device)
        with torch.inference_mode():
            chunks = self._model.inference_stream(
                text,
                self.options.language,
                gpt,
                spk,
                stream_chunk_size=self.options.stream_chunk_size,
                temperature=self.options.temperature,
            )
            try:
                for wav in chunks:
                    yield np.asarray(
                        wav.detach().cpu().float().numpy() if hasattr(wav, "detach") else wav, dtype=np.float32
                    ).reshape(-1)
            finally:
                chunks.close()  # stop generating as soon as the listener is gone

    async def aclose(self) -> None:
        self._model = None
        self._latents.clear()
        await super().aclose()
