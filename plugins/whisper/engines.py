"""Whisper engines: one blocking `decode(audio) -> text` each, so the streaming logic is engine-free.

faster-whisper (CTranslate2, int8 on CPU) is the default; openai-whisper (PyTorch) is for a GPU box.
Both read their weights from local files only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

import numpy as np

SAMPLE_RATE = 16000
FRAMES_PER_SECOND = 100  # Whisper's log-mel hop is 10 ms
MAX_FRAMES = 3000  # the 30 s window Whisper was trained on


MAX_PROMPT_TOKENS = 100  # of the hint; Whisper's decoder takes at most 224 tokens in all


class Engine(Protocol):
    """A loaded model that turns 16 kHz float audio into text (blocking; call off the event loop)."""

    def decode(self, audio: np.ndarray, language: str | None, prompt: str = "") -> tuple[str, str | None]:
        """(text, detected or given language); `prompt` is text as if said just before (Whisper's
        previous-text context), which biases the decoder toward its words and spellings."""
        ...

    def close(self) -> None: ...


def context_frames(n_samples: int, *, min_seconds: float = 10.0) -> int:
    """Encoder window for a clip: the clip plus 2 s, rounded up to 5 s, at least `min_seconds`.

    Whisper pads everything to 30 s; a shorter window costs proportionally less (10 s: ~3x faster)
    and, at 10 s or more, transcribes the same on our read-speech checks. Below ~5 s it starts to
    repeat itself, hence the floor.
    """
    seconds = n_samples / SAMPLE_RATE + 2.0
    seconds = max(min_seconds, math.ceil(seconds / 5.0) * 5.0)
    return int(min(MAX_FRAMES, seconds * FRAMES_PER_SECOND))


class FasterWhisperEngine:
    """CTranslate2 Whisper with a shortened encoder window for utterances under ~28 s."""

    def __init__(
        self,
        model_dir: Path,
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int = 2,
        beam_size: int = 5,
        min_context_seconds: float = 10.0,
    ) -> None:
        from faster_whisper import WhisperModel

        self.model = WhisperModel(
            str(model_dir), device=device, compute_type=compute_type, cpu_threads=cpu_threads, local_files_only=True
        )
        self.beam_size = beam_size
        self.min_context_seconds = min_context_seconds
        self.tokenizer = self.model.hf_tokenizer
        self.multilingual = bool(self.model.model.is_multilingual)
        self._eot = self.tokenizer.token_to_id("<|endoftext|>")

    def decode(self, audio: np.ndarray, language: str | None, prompt: str = "") -> tuple[str, str | None]:
        import ctranslate2

        audio = np.asarray(audio, dtype=np.float32)
        frames = context_frames(len(audio), min_seconds=self.min_context_seconds)
        if len(audio) > (frames - 100) * 160:  # too long for one window: faster-whisper's long-form path
            return self._long(audio, language, prompt)
        padded = np.pad(audio, (0, frames * 160 - len(audio)))
        features = self.model.feature_extractor(padded, padding=0)[:, :frames]
        encoded = self.model.model.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])), to_cpu=False
        )
        if self.multilingual and language is None:
            found = self.model.model.detect_language(encoded)[0][0][0]  # ("<|en|>", p)
            language = found.strip("<|>")
        tokens = self._previous(prompt) + self._prompt(language)
        result = self.model.model.generate(
            encoded, [tokens], beam_size=self.beam_size, max_length=224, suppress_blank=True
        )
        ids = [i for i in result[0].sequences_ids[0] if i < self._eot]
        return self.tokenizer.decode(ids).strip(), (language if self.multilingual else "en")

    def _prompt(self, language: str | None) -> list[int]:
        tid = self.tokenizer.token_to_id
        if not self.multilingual:
            return [tid("<|startoftranscript|>"), tid("<|notimestamps|>")]
        lang = tid(f"<|{language or 'en'}|>")
        if lang is None:
            lang = tid("<|en|>")
        return [tid("<|startoftranscript|>"), lang, tid("<|transcribe|>"), tid("<|notimestamps|>")]

    def _previous(self, prompt: str) -> list[int]:
        """`<|startofprev|>` and the prompt's last tokens (no special tokens: those would be echoed back)."""
        prompt = prompt.strip()
        if not prompt:
            return []
        ids = self.tokenizer.encode(" " + prompt, add_special_tokens=False).ids[-MAX_PROMPT_TOKENS:]
        return [self.tokenizer.token_to_id("<|startofprev|>"), *ids]

    def _long(self, audio: np.ndarray, language: str | None, prompt: str = "") -> tuple[str, str | None]:
        segments, info = self.model.transcribe(
            audio,
            language=language if self.multilingual else None,
            beam_size=self.beam_size,
            vad_filter=False,
            without_timestamps=False,
            initial_prompt=prompt.strip() or None,
        )
        return " ".join(s.text.strip() for s in segments).strip(), info.language

    def close(self) -> None:
        del self.model


class OpenAIWhisperEngine:
    """The reference PyTorch Whisper (`pip install openai-whisper`), for a CUDA box; checkpoint from weights/."""

    def __init__(self, checkpoint: Path, *, device: str = "cuda", beam_size: int = 5) -> None:
        import whisper  # openai-whisper

        if not hasattr(whisper, "load_model"):  # PyPI's `whisper` is Graphite's database, same module name
            from server.errors import DependencyMissing

            raise DependencyMissing(
                "the importable `whisper` module is not openai-whisper",
                hint="pip uninstall whisper; pip install openai-whisper==20250625",
            )
        self.model = whisper.load_model(str(checkpoint), device=device)
        self.device = device
        self.beam_size = beam_size

    def decode(self, audio: np.ndarray, language: str | None, prompt: str = "") -> tuple[str, str | None]:
        result = self.model.transcribe(
            np.asarray(audio, dtype=np.float32),
            language=language,
            initial_prompt=prompt.strip() or None,
            beam_size=self.beam_size,
            fp16=self.device.startswith("cuda"),
            condition_on_previous_text=False,
        )
        return str(result["text"]).strip(), result.get("language", language)

    def close(self) -> None:
        del self.model
