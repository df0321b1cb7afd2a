"""A call in progress: listens to the user, takes turns, handles barge-in, feeds the tracks.

The session is transport-free: the WebRTC layer pushes mic samples in (`feed_mic`) and pulls
the avatar's audio and frames out (`read_audio`, `video_frame`); tests drive it the same way.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec
import numpy as np

from server.backends import Turn
from server.media import AvatarState, VideoFrame
from server.pipeline.backends import CallAvatar, CallBackends
from server.pipeline.endpointing import Edge, Endpointer, EnergyEndpointer
from server.pipeline.events import Emit, EndedEvent, ErrorEvent, Event, NoticeEvent, StateEvent
from server.pipeline.idle import IdleFace
from server.pipeline.log import CallGone, CallLog
from server.pipeline.tasks import cancel_and_wait
from server.pipeline.timeline import AUDIO_FRAME, RATE, MediaTimeline
from server.pipeline.turn import ReplyTurn, TurnContext
from server.renders.background import slow_animator_notice
from server.renders.cache import RenderStore, ReplayCache
from server.renders.renderer import CachedRenderer
from server.speech.hints import speech_hint

log = logging.getLogger(__name__)
MAX_TYPED = 1000  # characters of one typed message


class SessionConfig(msgspec.Struct, frozen=True):
    lead_ms: int = 60  # how far ahead of playback a reply is placed, so its first frames are ready
    speech_start_ms: int = 60  # loud audio needed to decide the user is talking (barge-in speed)
    speech_end_ms: int = 400  # quiet needed to decide they finished (turn latency)
    speculate_ms: int = 200  # quiet after which the reply is prepared unseen (0: wait for the end)
    history_turns: int = 40
    frame_wait_s: float = 0.02
    language: str | None = None


class CallSession:
    """One call's pipeline state; `start()` loads the backends, `close()` ends it exactly once."""

    def __init__(
        self,
        backends: CallBackends,
        avatar: CallAvatar,
        log: CallLog,
        *,
        config: SessionConfig | None = None,
        emit: Emit | None = None,
        endpointer: Endpointer | None = None,
        renders: RenderStore | None = None,
    ) -> None:
        self.backends, self.avatar, self.log = backends, avatar, log
        self.config = config or SessionConfig()
        self.listeners: list[Emit] = [emit] if emit else []
        self.endpointer = endpointer or EnergyEndpointer(
            start_ms=self.config.speech_start_ms, end_ms=self.config.speech_end_ms, pause_ms=self.config.speculate_ms
        )
        self.timeline = MediaTimeline()
        self.idle = IdleFace(backends.animate, avatar.face)
        self.asr_hint = speech_hint(avatar.sheet)
        # Sentences already rendered for this avatar are replayed; ad-hoc avatars (no row) render live.
        self.renderer = CachedRenderer.for_call(renders, avatar, backends, self.timeline)
        self.state = AvatarState.IDLE
        self.history: list[Turn] = []
        self.turn: ReplyTurn | None = None
        self.turn_task: asyncio.Task[None] | None = None
        self.turns = 0
        self.barge_ins = 0
        self.speculations_dropped = 0
        self.finished_turns: list[ReplyTurn] = []  # confirmed turns, for their timings
        self.mic_samples = 0  # 16 kHz samples heard from the user
        self.user_speaking = False
        self.closed = False
        self.end_reason: str | None = None

    @property
    def replays(self) -> ReplayCache | None:
        """The render cache's counters for this call (None when it renders everything live)."""
        return getattr(self.renderer, "cache", None)

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        await self.backends.load()
        await self.backends.prepare(self.avatar.face)
        if self.backends.slow is not None:
            self.emit(NoticeEvent(message=slow_animator_notice(self.backends.slow, self.avatar.sheet.name)))
        elif self.backends.problem:
            name = self.avatar.sheet.name
            self.emit(NoticeEvent(message=f"{name}'s detailed face could not be started, so you see a simpler face."))
        self.set_state(AvatarState.LISTENING)

    async def close(self, reason: str = "ended") -> None:
        """Stop the turn (keeping what was said), release the backends, end the call record."""
        if self.closed:
            return
        self.closed = True
        self.end_reason = reason
        try:
            await cancel_and_wait(self.turn_task)
            self.timeline.flush()
            await self.idle.aclose()
            await self.renderer.aclose()  # fully played sentences are still stored
        finally:
            try:
                await self.backends.aclose()
            finally:
                await self.log.finish(reason=reason)
                self.emit(EndedEvent(reason=reason))

    # -- events --------------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:  # a broken client channel must not break the call
                log.exception("event listener failed")

    def set_state(self, state: AvatarState) -> None:
        if state != self.state:
            self.state = state
            self.emit(StateEvent(state=state))

    # -- input ---------------------------------------------------------------------------------

    def feed_mic(self, samples: np.ndarray) -> None:
        """The user's audio, mono int16 at 16 kHz, in arrival order."""
        if self.closed:
            return
        self.mic_samples += len(samples)
        for event in self.endpointer.feed(samples):
            if event.edge is Edge.START:
                self.user_speaking = True
                if self._turn_running():
                    self.barge_in()
            elif event.edge is Edge.PAUSE and event.audio is not None:
                self._start_turn(event.audio, speculative=True)
            elif event.edge is Edge.RESUME:
                self._drop_speculation()
            elif event.edge is Edge.END and event.audio is not None:
                self.user_speaking = False
                if self._speculating():
                    self.turns += 1
                    self.turn.confirm(self.turns)  # type: ignore[union-attr]
                else:
                    self._start_turn(event.audio)

    def say(self, text: str) -> None:
        """What the user typed instead of speaking: a turn like a spoken one (it interrupts a reply)."""
        text = " ".join(text.split())[:MAX_TYPED]
        if self.closed or not text:
            return
        self._start_turn(text)

    def _turn_running(self) -> bool:
        return self.turn_task is not None and not self.turn_task.done()

    def _speculating(self) -> bool:
        return self._turn_running() and self.turn is not None and not self.turn.confirmed.is_set()

    def _drop_speculation(self) -> None:
        """The user went on talking: the early reply was never seen; drop it without a trace."""
        if self._speculating() and self.turn_task is not None:
            self.turn_task.cancel()
            self.speculations_dropped += 1

    def barge_in(self) -> None:
        """The user talks over the avatar: stop the turn and silence what is queued, now."""
        self.barge_ins += 1
        if self.turn_task is not None:
            self.turn_task.cancel()
        self.timeline.flush()
        self.set_state(AvatarState.LISTENING)

    def _start_turn(self, utterance: np.ndarray | str, *, speculative: bool = False) -> None:
        if self._turn_running():
            self.barge_in()
        if not speculative:
            self.turns += 1
        ctx = TurnContext(
            backends=self.backends,
            avatar=self.avatar,
            timeline=self.timeline,
            log=self.log,
            emit=self.emit,
            set_state=self.set_state,
            history=self.history,
            lead_samples=RATE * self.config.lead_ms // 1000,
            language=self.config.language,
            asr_hint=self.asr_hint,
            renderer=self.renderer,
        )
        del self.history[: max(0, len(self.history) - self.config.history_turns)]
        self.turn = ReplyTurn(ctx, None if speculative else self.turns)
        self.turn_task = asyncio.create_task(self._run_turn(self.turn, utterance), name=f"turn-{self.turns}")

    async def _run_turn(self, turn: ReplyTurn, utterance: np.ndarray | str) -> None:
        try:
            await turn.run(utterance)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if _gone(exc):  # its avatar or account was deleted: nothing more may be written
                log.warning("call ended: its rows are gone")
                self.emit(ErrorEvent(message="This call has ended.", fatal=True))
                return
            # persistence failed: tell the client (in words; details in the log), keep the call
            log.exception("turn %s failed", turn.number)
            self.emit(ErrorEvent(message="Sorry, something went wrong with that reply. You can carry on talking."))
        finally:
            if turn.confirmed.is_set():
                self.finished_turns.append(turn)

    # -- output --------------------------------------------------------------------------------

    def read_audio(self) -> tuple[np.ndarray, bool]:
        """The avatar's next 20 ms at 48 kHz and whether it is speech."""
        return self.timeline.read_audio(AUDIO_FRAME)

    async def video_frame(self, index: int) -> tuple[VideoFrame | None, bool]:
        """The frame for `index` and whether it was late (speech was due but no frame was ready)."""
        if index not in self.timeline.frames and self.timeline.in_speech(index):
            # the animator is a moment behind: a short wait beats a late frame
            await self.timeline.frame_ready(index, self.config.frame_wait_s)
        frame = self.timeline.take_frame(index)
        if frame is not None:
            return frame, False
        if self.timeline.in_speech(index):
            return None, True
        state = AvatarState.LISTENING if self.state is AvatarState.SPEAKING else self.state
        return await self.idle.frame(index, state), False


def _gone(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return any(_gone(inner) for inner in exc.exceptions)
    return isinstance(exc, CallGone)
