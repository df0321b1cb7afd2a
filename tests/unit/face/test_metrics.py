"""The benchmark's measures on synthetic tracks: each one must separate good from bad."""

from __future__ import annotations

import numpy as np
import pytest

from server.face import metrics
from server.face import topology as T


def loudness_track(n: int, seed: int) -> np.ndarray:
    """Syllable-like loudness in dB: bursts at ~4 Hz with random pauses."""
    rng = np.random.default_rng(seed)
    on = (rng.random(n) < 0.55).astype(float)
    env = np.convolve(on, np.hanning(5), mode="same")
    return -60 + 45 * env / env.max()


def test_sync_z_is_high_when_the_mouth_follows_the_audio_and_low_otherwise() -> None:
    loud = loudness_track(600, seed=1)
    rng = np.random.default_rng(2)
    following = np.roll((loud + 60) / 45, 2) + rng.normal(0, 0.15, loud.shape)  # two frames late, noisy
    z, r, _ = metrics.sync_z(following, loud)
    assert z > 4 and r > 0.5
    unrelated = (loudness_track(600, seed=9) + 60) / 45
    z_bad, _, _ = metrics.sync_z(unrelated, loud)
    assert abs(z_bad) < 3


def test_sync_z_needs_a_long_enough_clip() -> None:
    with pytest.raises(ValueError, match="20 s"):
        metrics.sync_z(np.ones(60), np.ones(60))


def test_mismatch_z_is_near_zero_for_other_sentences() -> None:
    loud = loudness_track(800, seed=3)
    opening = (loud + 60) / 45
    _, _, null = metrics.sync_z(opening, loud)
    others = [np.roll(loud, 800 * k // 6) for k in range(1, 6)]
    assert abs(metrics.mismatch_z(opening, others, null)) < 1.5


def test_frame_loudness_follows_sample_counts() -> None:
    rate = 16000
    audio = np.zeros(rate, np.float32)
    audio[640 * 3 : 640 * 4] = 0.5  # only frame 3 is loud
    loud = metrics.frame_loudness(audio, rate, 25)
    assert loud.argmax() == 3 and loud[3] > -10 and loud[2] == -60


def make_tracks(n: int, noise: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.uniform(100, 400, (478, 2))
    t = np.arange(n)[:, None, None]
    sway = np.concatenate([2 * np.sin(2 * np.pi * t / 90), 1.5 * np.cos(2 * np.pi * t / 70)], axis=2)
    return base[None] + sway + rng.normal(0, noise, (n, 478, 2))


def test_jitter_ignores_smooth_sway_but_sees_shake() -> None:
    frames = np.arange(1, 199)
    smooth = metrics.jitter_px(make_tracks(200, 0.0), frames)
    shaky = metrics.jitter_px(make_tracks(200, 0.5), frames)
    assert smooth < 0.01
    # The second difference of white noise has sqrt(1.5) times its deviation per axis.
    assert 0.5 < shaky < 1.1
    assert metrics.motion_px(make_tracks(200, 0.0), frames) > 0.05  # the sway itself is still reported


def test_still_frames_and_mouth_opening() -> None:
    tracks = make_tracks(50, 0.0)
    tracks[:, T.IRIS_LEFT] = (100, 100)
    tracks[:, T.IRIS_RIGHT] = (200, 100)
    tracks[:, T.UPPER_LIP_INNER] = (150, 200)
    tracks[:, T.LOWER_LIP_INNER, 0] = 150
    t = np.arange(50)
    tracks[:, T.LOWER_LIP_INNER, 1] = 200 + np.where(t < 25, 0.0, (t - 25) * 2.0)  # opens 0.02 per frame from 25
    opening = metrics.mouth_opening(tracks)
    assert opening[0] == 0 and opening[-1] == pytest.approx(0.48)
    still = metrics.still_frames(opening)
    assert set(still) >= set(range(1, 24)) and not (set(still) & set(range(26, 49)))


def test_articulation_is_the_mouths_opening_over_its_width_in_speech_and_in_silence() -> None:
    n = 100
    tracks = make_tracks(n, 0.0)
    tracks[:, T.MOUTH_LEFT] = (100, 200)
    tracks[:, T.MOUTH_RIGHT] = (200, 200)  # 100 px wide
    tracks[:, T.UPPER_LIP_INNER] = (150, 195)
    tracks[:, T.LOWER_LIP_INNER, 0] = 150
    speaking = np.arange(n) % 20 < 12  # 12 of every 20 frames are speech
    gap = np.where(speaking, np.tile(np.linspace(5, 40, 12).tolist() + [0] * 8, n // 20), 3.0)
    tracks[:, T.LOWER_LIP_INNER, 1] = 195 + gap
    loudness = np.where(speaking, -20.0, -60.0)
    ratio = metrics.mouth_gap_ratio(tracks)
    assert ratio[0] == pytest.approx(0.05) and ratio[11] == pytest.approx(0.40)
    talking, silent = metrics.articulation(ratio, loudness)
    assert talking == pytest.approx(np.percentile(np.tile(np.linspace(0.05, 0.40, 12), 5), 90), abs=1e-3)
    assert silent == pytest.approx(0.03)
    assert talking / silent > 2.5  # a face that visibly talks
    assert metrics.articulation(ratio, np.full(n, -60.0))[0] is None  # no speech: nothing to say
