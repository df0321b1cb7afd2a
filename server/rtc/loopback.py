"""A whole call in one process: the server's CallManager answering a LoopbackClient over 127.0.0.1.

Used by `memoria call` and `memoria bench latency`: the same offer/answer, tracks, pipeline and
persistence as a browser call, with the user's side scripted and measured.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Self

import msgspec
import numpy as np

from server.domain.calls.manager import CallManager, LiveCall
from server.pipeline.backends import CallAvatar
from server.pipeline.events import CaptionEvent, EmotionEvent, ErrorEvent, StateEvent
from server.rtc import measure
from server.rtc.client import LoopbackClient


class TurnResult(msgspec.Struct):
    transcript: str
    reply: str
    emotion: str | None
    latency_ms: float | None  # end of the user's speech -> first avatar audio at the client
    first_frame_ms: float | None  # end of the user's speech -> first speaking frame at the client
    error: str | None = None


class LoopbackCall:
    """`async with LoopbackCall(manager, avatar) as call: await call.turn(samples, rate)`."""

    def __init__(
        self,
        manager: CallManager,
        avatar: CallAvatar,
        *,
        user_id: int | None = None,
        record: bool = False,
        client: LoopbackClient | None = None,
    ) -> None:
        self.manager, self.avatar, self.user_id, self.record = manager, avatar, user_id, record
        self.client = client or LoopbackClient()
        self.live: LiveCall | None = None
        self.turns = 0

    async def __aenter__(self) -> Self:
        async def signal(sdp: str) -> str:
            answer, self.live = await self.manager.start(self.avatar, sdp, user_id=self.user_id, record=self.record)
            return answer

        await self.client.connect(signal)
        await self.wait_state("listening", since=0.0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.hang_up()

    async def hang_up(self, reason: str = "hung up") -> None:
        try:
            if self.live is not None and self.live.call_id in self.manager.calls:
                await self.manager.end(self.live.call_id, self.user_id, reason)
        finally:
            await self.client.close()

    def events_since(self, since: float) -> list[Any]:
        return [e for t, e in self.client.received.events if t >= since]

    async def wait_state(self, state: str, *, since: float, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, event in self.client.received.events:
                if t >= since and isinstance(event, StateEvent) and event.state.value == state:
                    return t
            await asyncio.sleep(0.02)
        raise TimeoutError(f"the avatar did not become {state!r} within {timeout} s")

    async def turn(self, samples: np.ndarray, rate: int, *, timeout: float = 60.0) -> TurnResult:
        """Say `samples`, wait until the whole reply has been played, and measure it."""
        self.turns += 1
        number = self.turns
        utterance = self.client.say(samples, rate)
        await utterance.ended.wait()
        ended = utterance.ended_at
        assert ended is not None  # set with the event
        final = await self.wait_reply(number, since=ended, timeout=timeout)
        await asyncio.sleep(0.3)  # let the last frames arrive
        events = self.events_since(ended)
        # the user's caption can come before the file ends when it closes with silence
        heard = self.events_since(utterance.started_at or ended)
        user = next((e.text for e in heard if isinstance(e, CaptionEvent) and e.role == "user"), "")
        emotion = next((e.emotion.value for e in events if isinstance(e, EmotionEvent)), None)
        error = next((e.message for e in events if isinstance(e, ErrorEvent)), None)
        first_audio = measure.first_speech_after(self.client.received, ended)
        first_frame = measure.first_moving_frame_after(self.client.received, ended)
        return TurnResult(
            transcript=user,
            reply=final.text if final else "",
            emotion=emotion,
            latency_ms=_ms(first_audio, ended),
            first_frame_ms=_ms(first_frame, ended),
            error=error,
        )

    async def barge_in(
        self, question: np.ndarray, interruption: np.ndarray, rate: int, *, after_s: float = 1.0
    ) -> float | None:
        """Ask, let the avatar speak for `after_s`, talk over it; ms until its audio stops at the client.

        "Stops" is when the first moment of the call that the server silenced reached the client
        (matched by RTP timestamp), so a natural pause just before the interruption cannot flatter it.
        """
        self.turns += 1
        utterance = self.client.say(question, rate)
        await utterance.ended.wait()
        assert utterance.ended_at is not None
        deadline = time.monotonic() + 30
        speaking_at = None
        while speaking_at is None and time.monotonic() < deadline:
            speaking_at = measure.first_speech_after(self.client.received, utterance.ended_at)
            await asyncio.sleep(0.01)
        if speaking_at is None:
            return None
        await asyncio.sleep(max(0.0, speaking_at + after_s - time.monotonic()))
        self.turns += 1
        timeline = self.live.session.timeline if self.live is not None else None
        flushes = timeline.stats.flushes if timeline is not None else 0
        talk = self.client.say(interruption, rate)
        await talk.started.wait()
        assert talk.started_at is not None
        await asyncio.sleep(1.5)
        stopped = None
        if timeline is not None and timeline.stats.flushes > flushes and timeline.stats.last_flush_sample is not None:
            # the first moment of the call that was silenced: when did it reach the client?
            stopped = measure.audio_arrival(self.client.received, timeline.stats.last_flush_sample / 48000)
        await self.wait_reply(self.turns, since=talk.started_at)  # the interruption gets its own answer
        return _ms(stopped, talk.started_at)

    async def wait_reply(self, number: int, *, since: float, timeout: float = 60.0) -> CaptionEvent | None:
        """The final caption of reply `number`, or None if the turn ended in an error or timed out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events_since(since)
            final = next(
                (
                    e
                    for e in events
                    if isinstance(e, CaptionEvent) and e.role == "avatar" and e.final and e.turn == number
                ),
                None,
            )
            if final is not None:
                return final
            if any(isinstance(e, ErrorEvent) for e in events) and self._idle():
                return None
            await asyncio.sleep(0.05)
        return None

    def _idle(self) -> bool:
        states = [e for _, e in self.client.received.events if isinstance(e, StateEvent)]
        return bool(states) and states[-1].state.value == "listening"

    @property
    def video_stats(self) -> Any:
        return self.live.peer.video.stats if self.live is not None else None


def _ms(at: float | None, since: float) -> float | None:
    return round((at - since) * 1000.0, 1) if at is not None else None
