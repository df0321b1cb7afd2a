"""Voice likeness: learn a person's voice from their samples and move Piper's voice toward it.

Method (all CPU, offline): the WORLD vocoder splits speech into pitch, spectral envelope and
aperiodicity. From the person's samples we keep their log-pitch mean and spread, their speaking
rate, and a codebook of their spectral envelopes (mel-cepstra) with each frame's voicing. Live,
each frame of Piper's voice has its pitch mapped onto the person's range (after repairing the
tracker's octave slips) and its envelope replaced by the mean of the k nearest envelopes of the
person (matched after removing each speaker's average, so the match is on the sound being made,
not on who makes it) - a frame-level k-nearest-neighbour conversion. Options trade likeness for
clarity: keep some of Piper's envelope (`blend`), match voiced frames only to voiced ones, and
restore the per-coefficient variance that averaging flattens.
"""

from __future__ import annotations

import base64
import threading
import warnings
from collections.abc import Sequence

import msgspec
import numpy as np

from server.speech.resample import resample

# pyworld 0.3's __init__ imports pkg_resources, which setuptools now warns about on every import;
# the warning is pyworld's to fix and says nothing to a person starting Memoria.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning, module="pyworld")

RATE = 16000  # analysis and conversion rate
FRAME_MS = 5.0
DIMS = 40  # mel-cepstral coefficients per envelope
VERSION = 2  # 2: codebook voicing flags (a version-1 profile still loads, matched without them)
SLIP_WINDOW = 31  # voiced frames (~150 ms) around each pitch reading that judge it
MAX_Z = 3.0  # mapped pitch stays within 3 spreads of the person's mean, whatever the tracker read
STYLES = ("knn", "clear", "average")
CLEAR_BLEND = 0.85
_PRAAT = threading.Lock()


class VoiceModel(msgspec.Struct, frozen=True):
    """What we keep of a person's voice (stored as JSON in avatars.voice_profile)."""

    f0_log_mean: float
    f0_log_std: float
    syllable_rate: float  # syllable nuclei per second of speech
    envelope_mean: list[float]  # mean mel-cepstrum of voiced frames
    codebook: str  # base64 float16, (n, DIMS) mel-cepstra of the person's frames
    codebook_size: int
    seconds: float  # speech analysed
    version: int = VERSION
    method: str = "world-knn"
    voiced: str = ""  # base64 packed bits: which codebook frames are voiced ("" in version 1)
    # How envelopes are mapped: "knn" (closest likeness), "clear" (the clarity options on), "average"
    # (the person's average colour only: pitch, rate and timbre, never the words' shapes).
    style: str = "knn"

    def codes(self) -> np.ndarray:
        raw = np.frombuffer(base64.b64decode(self.codebook), dtype=np.float16)
        return raw.astype(np.float64).reshape(self.codebook_size, DIMS)

    def voicing(self) -> np.ndarray | None:
        """Voicing of each codebook frame, or None for a profile learned before it was kept."""
        if not self.voiced:
            return None
        bits = np.unpackbits(np.frombuffer(base64.b64decode(self.voiced), dtype=np.uint8))
        return bits[: self.codebook_size].astype(bool)


class Frames(msgspec.Struct):
    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray


def pitch_track(x: np.ndarray, rate: int, n_frames: int) -> np.ndarray:
    """F0 per WORLD frame (0 when unvoiced), from Praat's autocorrelation tracker.

    WORLD's own trackers (DIO, Harvest) jump octaves on Piper's low, creaky voice; Praat's does not.
    """
    import parselmouth

    with _PRAAT:  # Praat keeps global state; one analysis at a time
        pitch = parselmouth.Sound(x.astype(np.float64), rate).to_pitch_ac(
            time_step=FRAME_MS / 1000, pitch_floor=60.0, pitch_ceiling=500.0
        )
    times = np.arange(n_frames) * FRAME_MS / 1000
    freq = pitch.selected_array["frequency"]
    if len(freq) == 0:
        return np.zeros(n_frames)
    voiced = np.interp(times, pitch.xs(), (freq > 0).astype(float)) > 0.5
    # Interpolate over voiced values only, so the edges of voiced runs are not pulled toward zero.
    idx = np.flatnonzero(freq > 0)
    if len(idx) == 0:
        return np.zeros(n_frames)
    f0 = np.interp(times, pitch.xs()[idx], freq[idx])
    return np.where(voiced, f0, 0.0)


def analyze(x: np.ndarray, rate: int) -> Frames:
    import pyworld as pw

    x = (
        np.ascontiguousarray(resample(x, rate, RATE), dtype=np.float64)
        if rate != RATE
        else np.ascontiguousarray(x, dtype=np.float64)
    )
    n_frames = int(len(x) / RATE * 1000 / FRAME_MS) + 1
    f0 = np.ascontiguousarray(pitch_track(x, RATE, n_frames))
    times = np.arange(n_frames) * FRAME_MS / 1000
    sp = pw.cheaptrick(x, f0, times, RATE)
    ap = pw.d4c(x, f0, times, RATE)
    return Frames(f0=f0, sp=sp, ap=ap)


def encode_envelope(sp: np.ndarray) -> np.ndarray:
    import pyworld as pw

    return np.asarray(pw.code_spectral_envelope(np.ascontiguousarray(sp), RATE, DIMS), dtype=np.float64)


def decode_envelope(codes: np.ndarray) -> np.ndarray:
    import pyworld as pw

    return np.asarray(pw.decode_spectral_envelope(np.ascontiguousarray(codes), RATE, pw.get_cheaptrick_fft_size(RATE)))


def syllable_rate(frames: Frames) -> float:
    """Syllable nuclei per second of speech: peaks of voiced energy at least 100 ms apart."""
    energy = np.log(np.maximum(frames.sp[:, 1:40].sum(axis=1), 1e-12))
    voiced = frames.f0 > 0
    if voiced.sum() < 20:
        return 0.0
    smooth = np.convolve(energy, np.ones(9) / 9, mode="same")
    floor = np.percentile(smooth[voiced], 30)
    gap = int(100 / FRAME_MS)
    peaks, last = 0, -gap
    for i in range(1, len(smooth) - 1):
        if (
            voiced[i]
            and smooth[i] > floor
            and smooth[i] >= smooth[i - 1]
            and smooth[i] > smooth[i + 1]
            and i - last >= gap
        ):
            peaks += 1
            last = i
    speech_frames = _speech_mask(frames).sum()
    return float(peaks / max(float(speech_frames) * FRAME_MS / 1000, 1e-6))


def _speech_mask(frames: Frames) -> np.ndarray:
    energy = np.log(np.maximum(frames.sp.sum(axis=1), 1e-12))
    mask: np.ndarray = energy > np.percentile(energy, 95) - 9.0  # within ~40 dB of the loud frames
    return mask


def learn(samples: Sequence[tuple[np.ndarray, int]], *, max_frames: int = 2048, seed: int = 0) -> VoiceModel:
    """Study the person's recordings (float audio, rate) once."""
    f0s, codes, voiced, rates, seconds = [], [], [], [], 0.0
    for audio, rate in samples:
        frames = analyze(audio, rate)
        mask = _speech_mask(frames)
        f0s.append(frames.f0[(frames.f0 > 0) & mask])
        codes.append(encode_envelope(frames.sp)[mask])
        voiced.append((frames.f0 > 0)[mask])
        rates.append(syllable_rate(frames))
        seconds += mask.sum() * FRAME_MS / 1000
    log_f0 = np.log(np.concatenate(f0s)) if f0s else np.zeros(0)
    if len(log_f0) < 50:
        raise ValueError("the samples hold too little voiced speech to learn from (need a few seconds)")
    allcodes, allvoiced = np.concatenate(codes), np.concatenate(voiced)
    mean = allcodes.mean(axis=0)
    rng = np.random.default_rng(seed)
    if len(allcodes) > max_frames:
        keep = np.sort(rng.choice(len(allcodes), max_frames, replace=False))
        allcodes, allvoiced = allcodes[keep], allvoiced[keep]
    return VoiceModel(
        f0_log_mean=float(log_f0.mean()),
        f0_log_std=float(log_f0.std()),
        syllable_rate=float(np.median([r for r in rates if r > 0])) if any(r > 0 for r in rates) else 0.0,
        envelope_mean=[float(v) for v in mean],
        codebook=base64.b64encode(allcodes.astype(np.float16).tobytes()).decode("ascii"),
        codebook_size=len(allcodes),
        seconds=float(seconds),
        voiced=base64.b64encode(np.packbits(allvoiced).tobytes()).decode("ascii"),
    )


def repair_slips(log_f0: np.ndarray, *, window: int = SLIP_WINDOW) -> np.ndarray:
    """Voiced log-pitch with octave slips (a reading >= 1.6x or <= 1/1.6x the local median) set to that median.

    Piper's creaky voice makes the tracker read 300-500 Hz for a few frames now and then; mapped onto
    the person's range those became squeaks that Whisper heard as other words.
    """
    if len(log_f0) < 3:
        return log_f0
    half = window // 2
    padded = np.pad(log_f0, half, mode="edge")
    median = np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)
    return np.where(np.abs(log_f0 - median) > np.log(1.6), median, log_f0)


class SourceStats(msgspec.Struct, frozen=True):
    """The unadapted voice's own averages, measured once at load on reference sentences."""

    f0_log_mean: float
    f0_log_std: float
    syllable_rate: float
    envelope_mean: list[float]


def source_stats(audio: Sequence[tuple[np.ndarray, int]]) -> SourceStats:
    model = learn(audio, max_frames=1)
    return SourceStats(model.f0_log_mean, model.f0_log_std, model.syllable_rate, model.envelope_mean)


class Converter:
    """Applies one learned voice to audio of the source voice (a few ms per 100 ms of audio)."""

    def __init__(
        self,
        model: VoiceModel,
        source: SourceStats,
        *,
        k: int = 4,
        blend: float = 1.0,
        keep_unvoiced: bool = False,
        pitch_spread: float = 1.0,
        restore_variance: bool = False,
        match_voicing: bool = False,
    ) -> None:
        if model.version > VERSION:
            raise ValueError(f"voice profile version {model.version} is newer than this code understands ({VERSION})")
        if model.style not in STYLES:
            raise ValueError(f"unknown envelope style {model.style!r}")
        if model.style == "clear":
            blend, restore_variance, match_voicing = min(blend, CLEAR_BLEND), True, True
        elif model.style == "average":
            blend = 0.0
        self.model = model
        self.keep_unvoiced = keep_unvoiced
        self.source = source
        self.k = k
        self.blend = blend  # 1: the person's envelopes only; lower keeps some of the source's articulation
        self.pitch_spread = pitch_spread
        self.restore_variance = restore_variance
        codes = model.codes()
        self._targets = codes
        self._keys = codes[:, 1:] - np.asarray(model.envelope_mean)[1:]
        self._key_norms = (self._keys**2).sum(axis=1)
        self._key_voiced = model.voicing() if match_voicing else None
        self._src_mean = np.asarray(source.envelope_mean)
        self._target_var = codes[:, 1:].var(axis=0)

    @property
    def length_scale(self) -> float:
        """Piper length_scale that matches the person's speaking rate (bounded: intelligibility first)."""
        if self.model.syllable_rate <= 0 or self.source.syllable_rate <= 0:
            return 1.0
        return float(np.clip(self.source.syllable_rate / self.model.syllable_rate, 0.8, 1.25))

    def map_f0(self, f0: np.ndarray) -> np.ndarray:
        """Source pitch -> the person's log-pitch mean and spread, without the tracker's octave slips."""
        voiced = f0 > 0
        out = np.zeros_like(f0)
        z = (repair_slips(np.log(f0[voiced])) - self.source.f0_log_mean) / max(self.source.f0_log_std, 1e-3)
        z = np.clip(z, -MAX_Z, MAX_Z)  # a longer slip than the repair can see still stays in range
        out[voiced] = np.exp(self.model.f0_log_mean + z * self.model.f0_log_std * self.pitch_spread)
        return out

    def map_envelope(
        self, codes: np.ndarray, voiced: np.ndarray | None = None, speech: np.ndarray | None = None
    ) -> np.ndarray:
        """Source mel-cepstra -> the person's: k nearest of their frames (same voicing when known)."""
        shifted: np.ndarray = codes - self._src_mean + np.asarray(self.model.envelope_mean)
        if self.blend <= 0.0:  # the person's average colour only
            return shifted
        queries = codes[:, 1:] - self._src_mean[1:]
        dist = (queries**2).sum(axis=1)[:, None] - 2 * queries @ self._keys.T + self._key_norms[None, :]
        if voiced is not None and self._key_voiced is not None:
            # A voiced sound is never rebuilt from the person's hiss, nor a hiss from their vowels.
            dist += 1e6 * (voiced[:, None] != self._key_voiced[None, :])
        k = min(self.k, len(self._keys))
        nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
        out: np.ndarray = self._targets[nearest].mean(axis=1)
        if self.blend < 1.0:
            out = self.blend * out + (1.0 - self.blend) * shifted
        if self.restore_variance:
            out = self._restore_variance(out, speech)
        # Keep the source's frame energy (c0) so loudness follows the sentence, shifted to the person's level.
        out[:, 0] = codes[:, 0] - self._src_mean[0] + self.model.envelope_mean[0]
        return out

    def _restore_variance(self, out: np.ndarray, speech: np.ndarray | None) -> np.ndarray:
        """Stretch each coefficient around its mean to the person's variance (never shrink, at most 2x).

        Averaging k neighbours (and blending) flattens the envelopes; this is the usual global-variance
        compensation of statistical voice conversion: formants regain their height, words their edges.
        """
        rows = out[speech, 1:] if speech is not None and speech.sum() > 10 else out[:, 1:]
        if len(rows) < 10:
            return out
        mean, var = rows.mean(axis=0), rows.var(axis=0) + 1e-9
        scale = np.clip(np.sqrt(self._target_var / var), 1.0, 2.0)
        out = out.copy()
        out[:, 1:] = mean + (out[:, 1:] - mean) * scale
        return out

    def convert(self, audio: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
        """Float audio of the source voice -> float audio at RATE in the person's voice."""
        import pyworld as pw

        if len(audio) < rate * 0.05:
            return resample(audio, rate, RATE), RATE
        frames = analyze(audio, rate)
        codes = encode_envelope(frames.sp)
        unvoiced = frames.f0 <= 0
        mapped = self.map_envelope(codes, ~unvoiced, _speech_mask(frames))
        if self.keep_unvoiced:
            # Consonant noise (fricatives, bursts) carries the words more than the voice: keep Piper's,
            # moved to the person's average colour.
            mapped[unvoiced] = codes[unvoiced] - self._src_mean + np.asarray(self.model.envelope_mean)
        sp = decode_envelope(mapped)
        f0 = self.map_f0(frames.f0)
        y = pw.synthesize(
            np.ascontiguousarray(f0), np.ascontiguousarray(sp), np.ascontiguousarray(frames.ap), RATE, FRAME_MS
        )
        peak = float(np.max(np.abs(y))) if len(y) else 0.0
        if peak > 0:
            y = y * (0.9 / peak)
        return y.astype(np.float32), RATE
