"""One exchange: the user's utterance -> transcript -> reply sentences -> voice and face on the timeline.

The reply is written, spoken and animated concurrently: the first sentence plays while the
persona is still writing the next. Whatever happens (finished, interrupted by barge-in, a
backend failing) the words that reached the user are persisted and added to the history.
Sentences come from a SentenceRenderer (live, or a stored render first): this module only places
their audio and frames on the timeline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import numpy as np

from server.backends import Role, Turn
from server.errors import BackendFailure
from server.media import AudioChunk, AvatarState, Emotion, VideoFrame
from server.persona.care import care_flags
from server.pipeline.animation import AnimatorRun
from server.pipeline.audio import IntResampler
from server.pipeline.backends import CallAvatar, CallBackends
from server.pipeline.events import CaptionEvent, Emit, EmotionEvent, ErrorEvent, FlagEvent
from server.pipeline.log import CallGone, CallLog
from server.pipeline.sentences import SentenceCutter
from server.pipeline.spoken import SpokenReply
from server.pipeline.tasks import cancel_and_wait
from server.pipeline.timeline import AUDIO_FRAME, RATE, SAMPLES_PER_FRAME, MediaTimeline
from server.renders.renderer import SentenceRenderer, StoredSentence

log = logging.getLogger(__name__)

ASR_RATE = 16000
ASR_CHUNK = ASR_RATE // 10
PAD_SAMPLES = 2 * SAMPLES_PER_FRAME  # what an animator's look-ahead may need beyond the lead
ANIMATOR_PIECE = 2 * SAMPLES_PER_FRAME


class TurnContext(msgspec.Struct):
    """What a turn borrows from its call."""

    backends: CallBackends
    avatar: CallAvatar
    timeline: MediaTimeline
    log: CallLog
    emit: Emit
    set_state: Callable[[AvatarState], None]
    history: list[Turn]
    renderer: SentenceRenderer
    lead_samples: int = RATE // 10
    language: str | None = None
    asr_hint: str = ""  # names and places the user may say (see server/speech/hints.py)


class ReplyTurn:
    """Runs one exchange; cancel the task running `run()` to interrupt it."""

    def __init__(self, ctx: TurnContext, number: int | None) -> None:
        self.ctx = ctx
        self.number = number or 0
        self.transcript = ""
        self.emotion: Emotion | None = None
        self.sentences: list[tuple[int, str]] = []  # (start sample on the timeline, text)
        self.first_audio_sample: int | None = None
        self.cursor = 0  # where the next reply sample goes (audio to the animator included)
        self.speech_to = 0  # end of this turn's last speech on the timeline
        self._run: AnimatorRun | None = None  # the animator stream being fed
        self._runs: list[AnimatorRun] = []
        self._replaying: list[asyncio.Task[None]] = []  # stored sentences putting their frames up
        self._flushes = ctx.timeline.stats.flushes  # a flush after this means this turn was cut
        self._recorder = ctx.renderer.recorder(self._flushes)
        self._padder: asyncio.Task[None] | None = None
        self._spoken = SpokenReply(ctx.log)  # the avatar's message row, kept up to date as it speaks
        # A speculative turn (started at a pause) works unseen until the end of speech confirms it.
        self.confirmed = asyncio.Event()
        self._recorded = asyncio.Event()  # the user's words are captioned and stored
        self.care: dict[str, Any] = {}  # care flags (e.g. crisis) raised by what the user said
        # Monotonic times of the stages (started, transcribed, confirmed, first_sentence, first_audio,
        # placed): where a reply's latency goes, for benchmarks and logs.
        self.timings: dict[str, float] = {"started": time.monotonic()}
        if number is not None:
            self.confirm(number)

    def confirm(self, number: int) -> None:
        """The user really finished: show and keep this turn from now on."""
        self.number = number
        self.timings["confirmed"] = time.monotonic()
        self.ctx.set_state(AvatarState.THINKING)
        self.confirmed.set()

    async def run(self, utterance: np.ndarray | str) -> None:
        """Answer `utterance`: the user's audio, or what they typed instead of speaking."""
        outcome: dict[str, Any] = {}
        try:
            try:
                await self._exchange(utterance)
            except* CallGone:
                raise
            except* Exception as group:  # noqa: BLE001 - a backend failing ends the reply, not the call
                outcome["error"] = await self._failed(group.exceptions[0])
        except asyncio.CancelledError:
            outcome["interrupted"] = True
            raise
        finally:
            self._recorder.drop()  # whatever was not handed to the cache yet is partial
            await cancel_and_wait(self._padder)
            for task in [*(run.task for run in self._runs), *self._replaying]:
                await cancel_and_wait(task)
            if self.confirmed.is_set():
                await self._persist_said(outcome)
                self.ctx.set_state(AvatarState.LISTENING)

    async def _failed(self, failure: BaseException) -> str:
        """Tell the user the reply stopped (in words, the details in the log) and keep what they said."""
        log.warning("turn %s: the reply stopped: %r", self.number, failure)
        message = str(failure) if isinstance(failure, BackendFailure) else f"{type(failure).__name__}: {failure}"
        await self.confirmed.wait()
        if self.transcript and not self._recorded.is_set():  # failed before the user's words were kept
            await self._record_user()
        self.ctx.emit(ErrorEvent(message="Sorry, the reply stopped there. You can carry on talking."))
        return message

    async def _exchange(self, utterance: np.ndarray | str) -> None:
        ctx = self.ctx
        said = utterance if isinstance(utterance, str) else await self._transcribe(utterance)
        self.transcript = said.strip()
        self.timings["transcribed"] = time.monotonic()
        if not self.transcript:
            await self.confirmed.wait()
            return
        history = [*ctx.history, Turn(Role.USER, self.transcript)]
        sentences: asyncio.Queue[str | None] = asyncio.Queue()
        async with asyncio.TaskGroup() as group:
            group.create_task(self._record_user())
            group.create_task(self._write(history, sentences))
            group.create_task(self._speak(sentences))
        await cancel_and_wait(self._padder)
        self._end_run()
        for task in [*(run.task for run in self._runs), *self._replaying]:
            await task
        self._recorder.settle()
        await ctx.timeline.played(self.speech_to, self._flushes)  # until the last word has been heard

    async def _record_user(self) -> None:
        """Once confirmed: caption and store what the user said, before any reply is heard."""
        await self.confirmed.wait()
        self.ctx.emit(CaptionEvent(role=Role.USER.value, text=self.transcript, turn=self.number))
        self.ctx.history.append(Turn(Role.USER, self.transcript))
        self.care = care_flags(self.ctx.history, **self.ctx.backends.persona.care_settings())
        if self.care:
            self.ctx.emit(FlagEvent(flags=self.care))
        await self.ctx.log.add_message(Role.USER, self.transcript, flags=self.care)
        if self.emotion is not None:
            self.ctx.emit(EmotionEvent(emotion=self.emotion))
        self._recorded.set()

    async def _transcribe(self, utterance: np.ndarray) -> str:
        async def chunks() -> AsyncIterator[AudioChunk]:
            for start in range(0, len(utterance), ASR_CHUNK):
                yield AudioChunk(samples=utterance[start : start + ASR_CHUNK], sample_rate=ASR_RATE, pts=start)

        final = ""
        stream = self.ctx.backends.transcribe(chunks(), language=self.ctx.language, hint=self.ctx.asr_hint)
        async for transcript in stream:
            if transcript.final:
                final = transcript.text
        return final

    async def _write(self, history: list[Turn], out: asyncio.Queue[str | None]) -> None:
        """Persona tokens -> sentences, queued for the voice as soon as each one is complete."""
        cutter = SentenceCutter()
        try:
            async for delta in self.ctx.backends.respond(history, persona=self.ctx.avatar.sheet):
                if delta.emotion is not None and delta.emotion != self.emotion:
                    self.emotion = delta.emotion
                    if self._recorded.is_set():  # before that, _record_user sends it
                        self.ctx.emit(EmotionEvent(emotion=delta.emotion))
                for sentence in cutter.feed(delta.text):
                    self.timings.setdefault("first_sentence", time.monotonic())
                    out.put_nowait(sentence)
            rest = cutter.flush()
            if rest:
                self.timings.setdefault("first_sentence", time.monotonic())
                out.put_nowait(rest)
        finally:
            out.put_nowait(None)

    async def _speak(self, sentences: asyncio.Queue[str | None]) -> None:
        """Each sentence: a stored render if there is one, else voice -> 48 kHz audio and the animator."""
        while (sentence := await sentences.get()) is not None:
            stored = await self.ctx.renderer.stored(sentence, self._emotion_now().value)
            if stored is not None:
                await self._place_stored(sentence, stored)
            else:
                await self._speak_live(sentence)

    async def _speak_live(self, sentence: str) -> None:
        self._start_animator()  # its set-up overlaps the voice's first chunk
        resampler: IntResampler | None = None
        started = False
        async for chunk in self.ctx.backends.synthesize(sentence, voice=self.ctx.avatar.voice):
            if resampler is None or resampler.src_rate != chunk.sample_rate:
                resampler = IntResampler(chunk.sample_rate, RATE)
            samples = resampler.convert(chunk.samples)
            if not started and len(samples):
                await self._recorded.wait()  # a speculative reply is held here until the user has finished
                started = True
                self.timings.setdefault("first_audio", time.monotonic())
                self._place_sentence(sentence)
                if self._run is not None:
                    self._recorder.open(sentence, self._run.emotion.value, self.cursor, self._run)
            self._place(samples)
        if resampler is not None:
            self._place(resampler.flush())
        self._recorder.close()

    async def _place_stored(self, sentence: str, stored: StoredSentence) -> None:
        """A stored render at the cursor: its audio now, its frames as they are decoded."""
        try:
            await self._recorded.wait()  # a speculative reply is held here until the user has finished
        except BaseException:
            stored.close()
            raise
        self.timings.setdefault("first_audio", time.monotonic())
        self._place_sentence(sentence)
        self._end_run()  # the stream so far ends on this frame edge; a new one starts after the replay
        start, frames = self.cursor, -(-len(stored.pcm) // SAMPLES_PER_FRAME)
        self.ctx.timeline.add_audio(start, stored.pcm)
        self.speech_to = start + len(stored.pcm)
        self.cursor = start + frames * SAMPLES_PER_FRAME  # the last frame's remainder is silence
        shown = stored.show(start // SAMPLES_PER_FRAME, frames, self._show)
        self._replaying.append(asyncio.create_task(shown, name=f"replay-turn-{self.number}"))  # type: ignore[arg-type]

    def _place_sentence(self, sentence: str) -> None:
        timeline = self.ctx.timeline
        if self.first_audio_sample is None:
            self.cursor = timeline.reserve(self.ctx.lead_samples)
            self.first_audio_sample = self.cursor
            self.timings["placed"] = time.monotonic()
            self._padder = asyncio.create_task(self._pad(), name=f"pad-turn-{self.number}")
            self.ctx.set_state(AvatarState.SPEAKING)
        self._keep_ahead()
        if self.ctx.renderer.aligned:  # stored sentences start on a frame edge: their frames are their own
            self._to_animator(np.zeros(-self.cursor % SAMPLES_PER_FRAME, np.int16))
        self.sentences.append((self.cursor, sentence))
        self._spoken.note(" ".join(text for _, text in self.sentences), self.emotion)
        self.ctx.emit(CaptionEvent(role=Role.AVATAR.value, text=sentence, final=False, turn=self.number))

    def _place(self, samples: np.ndarray) -> None:
        if len(samples) == 0 or self.first_audio_sample is None:
            return
        self._keep_ahead()
        self.ctx.timeline.add_audio(self.cursor, samples)
        self._to_animator(samples)
        self.speech_to = self.cursor

    async def _pad(self) -> None:
        """As playback advances between sentences, keep the animator's audio a little ahead of it
        (silence), so animators that look ahead still finish every frame in time."""
        timeline = self.ctx.timeline
        while True:
            await timeline.played(timeline.audio_position + AUDIO_FRAME)
            self._keep_ahead(self.ctx.lead_samples + PAD_SAMPLES)

    def _keep_ahead(self, ahead: int | None = None) -> None:
        """If the voice fell behind playback, leave a pause (silence to the animator too) instead of a gap in time."""
        timeline = self.ctx.timeline
        earliest = timeline.audio_position + (self.ctx.lead_samples // 2 if ahead is None else ahead)
        if self.cursor < earliest:
            self._to_animator(np.zeros(earliest - self.cursor, np.int16))

    def _to_animator(self, samples: np.ndarray) -> None:
        """Feed the animator in pieces of a few frames: given a whole sentence at once, an animator
        would draw all of it before showing the first frame."""
        for start in range(0, len(samples), ANIMATOR_PIECE):
            piece = samples[start : start + ANIMATOR_PIECE]
            self._start_animator().feed(AudioChunk(samples=piece, sample_rate=RATE, pts=self.cursor))
            self._recorder.add_audio(piece)
            self.cursor += len(piece)

    def _start_animator(self) -> AnimatorRun:
        if self._run is None:
            ctx = self.ctx
            name = f"animate-turn-{self.number}-{len(self._runs)}"
            self._run = AnimatorRun(ctx.backends.animate, ctx.avatar.face, self._emotion_now(), self._show, name)
            self._runs.append(self._run)
        return self._run

    def _end_run(self) -> None:
        if self._run is not None:
            self._run.end()
            self._run = None

    def _emotion_now(self) -> Emotion:
        """The emotion the next sentence is drawn with: the running animator stream's, else the reply's."""
        return self._run.emotion if self._run is not None else self.emotion or Emotion.NEUTRAL

    def _show(self, index: int, frame: VideoFrame) -> None:
        """A frame for the timeline (and for the sentence being recorded), unless this turn was cut."""
        if self.ctx.timeline.stats.flushes != self._flushes:
            return
        self.ctx.timeline.add_frame(index, frame)
        self._recorder.add_frame(index, frame)

    async def _persist_said(self, outcome: dict[str, Any]) -> None:
        """Store the sentences that started playing; an interrupted or failed reply keeps its flag."""
        played_to = self.ctx.timeline.audio_position if outcome.get("interrupted") else None
        said = [text for start, text in self.sentences if played_to is None or start < played_to]
        if not said:  # nothing reached the user: nothing to keep
            await self._spoken.finish(None, None, {})
            return
        text = " ".join(said)
        self.ctx.history.append(Turn(Role.AVATAR, text, self.emotion))
        await self._spoken.finish(text, self.emotion, {**self.care, **outcome})
        self.ctx.emit(CaptionEvent(role=Role.AVATAR.value, text=text, final=True, turn=self.number))
