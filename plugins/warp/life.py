"""What keeps the face alive between and during words: blinks, head motion tied to speech,
breathing, the listening and thinking faces, and emotions that blend smoothly.

Blinks and idle motion are pure functions of stream time and a seed, so a face never jumps when
one reply's frames follow another's; emotion and state carry over in `Expression`.
"""

from __future__ import annotations

import bisect
import math
import random

from plugins.warp.mouth import MouthShape
from plugins.warp.render import FaceParams
from server.media import AvatarState, Emotion

FPS = 25
# Per emotion: coarse motions (px at a 200 px wide face), eyelid widening, mouth offsets.
EMOTIONS: dict[Emotion, dict[str, float]] = {
    Emotion.NEUTRAL: {},
    Emotion.HAPPY: {"smile": 6.0, "squint": 2.0, "brow_up": 1.0, "spread": 0.25, "open": 0.03},
    Emotion.SAD: {"brow_inner": 4.5, "frown": 5.0, "smile": -2.0, "pitch": 2.5, "lid": 0.22, "spread": -0.15},
    Emotion.SURPRISED: {"brow_up": 7.0, "widen": 0.3, "open": 0.12, "zoom": 0.8},
    Emotion.THOUGHTFUL: {"brow_knit": 3.0, "roll": 2.0, "squint": 1.0, "gaze_x": 0.6, "gaze_y": -0.5, "frown": 1.0},
}
STATES: dict[AvatarState, dict[str, float]] = {
    AvatarState.IDLE: {},
    AvatarState.SPEAKING: {},
    AvatarState.LISTENING: {"roll": 2.5, "brow_up": 2.5, "smile": 1.5, "nod": 1.0},
    AvatarState.THINKING: {"gaze_x": 0.8, "gaze_y": -0.7, "brow_knit": 3.0, "roll": -2.0, "yaw": -3.0, "squint": 0.8},
}
BLEND_S = 0.5  # time constant of emotion and state changes


class Expression:
    """Smoothed emotion and state weights; one per avatar stream, kept across replies."""

    def __init__(self) -> None:
        self.emotion = {e: (1.0 if e is Emotion.NEUTRAL else 0.0) for e in Emotion}
        self.state = {s: (1.0 if s is AvatarState.IDLE else 0.0) for s in AvatarState}

    def step(self, emotion: Emotion, state: AvatarState) -> dict[str, float]:
        """Advance one frame towards (emotion, state); the blended offsets for this frame."""
        k = 1.0 - math.exp(-1.0 / (FPS * BLEND_S))
        for e in self.emotion:
            self.emotion[e] += ((1.0 if e is emotion else 0.0) - self.emotion[e]) * k
        for s in self.state:
            self.state[s] += ((1.0 if s is state else 0.0) - self.state[s]) * k
        out: dict[str, float] = {}
        for table, weights in ((EMOTIONS, self.emotion), (STATES, self.state)):
            for key, w in weights.items():
                for name, value in table[key].items():  # type: ignore[index]
                    out[name] = out.get(name, 0.0) + w * value
        return out


class Life:
    """Blinks, idle sway, breathing and speech-linked nods for one avatar (seeded)."""

    def __init__(self, seed: int, face_width: float) -> None:
        self.rng = random.Random(seed)
        self.scale = face_width / 200.0
        self.blinks: list[float] = []
        self._next_blink = self.rng.uniform(0.5, 2.5)
        self.waves = {
            name: [(self.rng.uniform(0.05, 0.35), self.rng.uniform(0, 2 * math.pi)) for _ in range(3)]
            for name in ("tx", "ty", "roll", "yaw", "pitch", "zoom")
        }
        self.emphasis = 0.0
        self.onset = 0.0
        self.prev_loud = 0.0

    def blink(self, t: float) -> float:
        """Eyelid closure 0..1 at time t: quick close, short hold, slower open."""
        while self._next_blink < t + 1.0:
            self.blinks.append(self._next_blink)
            if self.rng.random() < 0.12:  # now and then a double blink
                self.blinks.append(self._next_blink + 0.28)
            self._next_blink += max(1.2, self.rng.gammavariate(3.0, 1.2))
        if len(self.blinks) > 64:  # keep only the recent past: calls can last for hours
            self.blinks = [b for b in self.blinks if b > t - 2.0]
        i = bisect.bisect_right(self.blinks, t)
        amount = 0.0
        for start in self.blinks[max(0, i - 2) : i]:
            d = t - start
            if d < 0.08:
                amount = max(amount, math.sin(d / 0.08 * math.pi / 2))
            elif d < 0.12:
                amount = 1.0
            elif d < 0.30:
                amount = max(amount, 0.5 + 0.5 * math.cos((d - 0.12) / 0.18 * math.pi))
        return amount

    def params(self, index: int, mouth: MouthShape, loud: float, extra: dict[str, float]) -> FaceParams:
        """Everything that moves in frame `index`, given its mouth and loudness and the blended mood."""
        t = index / FPS
        s = self.scale
        # Speech rhythm: onsets of loud syllables give small nods that fade over ~0.3 s.
        onset = max(0.0, loud - self.prev_loud)
        self.prev_loud = loud
        # Two cascaded decays: the nod rises over ~0.1 s and fades, never jumps between frames.
        self.onset = self.onset * math.exp(-1 / (FPS * 0.08)) + onset
        self.emphasis = self.emphasis * math.exp(-1 / (FPS * 0.3)) + self.onset * (1 - math.exp(-1 / (FPS * 0.08)))
        amp = {"tx": 1.4, "ty": 0.8, "roll": 0.9, "yaw": 1.8, "pitch": 1.0, "zoom": 0.25}
        motion = {
            name: amp[name] * sum(math.sin(2 * math.pi * f * t + ph) for f, ph in w) / 2
            for name, w in self.waves.items()
        }
        motion["pitch"] += 1.6 * min(self.emphasis, 1.5)
        motion["ty"] += 0.5 * min(self.emphasis, 1.5)
        motion["breath"] = 0.9 * math.sin(2 * math.pi * t / 4.3)
        nod = extra.get("nod", 0.0)
        if nod:  # listening: a small nod every few seconds
            phase = (t % 3.7) / 3.7
            motion["pitch"] += nod * 2.0 * math.sin(math.pi * min(1.0, phase / 0.2)) ** 2 * (phase < 0.2)
        for name in ("roll", "yaw", "pitch", "zoom", "brow_up", "brow_inner", "brow_knit", "smile", "frown", "squint"):
            if name in extra:
                motion[name] = motion.get(name, 0.0) + extra[name]
        for name in (
            "tx",
            "ty",
            "yaw",
            "pitch",
            "breath",
            "brow_up",
            "brow_inner",
            "brow_knit",
            "smile",
            "frown",
            "squint",
        ):
            motion[name] = motion.get(name, 0.0) * s
        shaped = MouthShape(
            open=max(0.0, mouth.open + extra.get("open", 0.0)),
            jaw=mouth.jaw,
            spread=mouth.spread + extra.get("spread", 0.0),
            round=mouth.round,
            tongue=mouth.tongue,
            tuck=mouth.tuck,
        )
        blink = min(1.0, self.blink(t) + extra.get("lid", 0.0))
        return FaceParams(
            mouth=shaped,
            blink=blink,
            widen=extra.get("widen", 0.0) * (1.0 - blink),
            gaze=(extra.get("gaze_x", 0.0), extra.get("gaze_y", 0.0)),
            motion=motion,
        )
