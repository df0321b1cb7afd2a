"""The pipeline's small parts: sentence cutting, endpointing, the media timeline, events."""

from __future__ import annotations

import numpy as np

from server.media import AvatarState, Emotion, VideoFrame
from server.pipeline.endpointing import Edge, EnergyEndpointer
from server.pipeline.events import CaptionEvent, EmotionEvent, StateEvent, decode, encode
from server.pipeline.sentences import SentenceCutter
from server.pipeline.timeline import SAMPLES_PER_FRAME, MediaTimeline


def test_sentences_are_cut_as_soon_as_they_end() -> None:
    cutter = SentenceCutter()
    assert cutter.feed("Hello Tom, it is so") == []
    assert cutter.feed(" good to see you. Do you") == ["Hello Tom, it is so good to see you."]
    assert cutter.feed(" remember Dr. Smith? He") == ["Do you remember Dr. Smith?"]
    assert cutter.flush() == "He"
    assert cutter.flush() is None


def test_a_rambling_sentence_is_cut_at_a_comma() -> None:
    cutter = SentenceCutter(max_chars=60)
    pieces = cutter.feed("and then we walked to the harbour, and then we walked back up the hill, and")
    assert pieces == ["and then we walked to the harbour,"]  # the last comma within max_chars
    assert cutter.flush() == "and then we walked back up the hill, and"


def tone(seconds: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * 16000)) / 16000
    return (level * np.sin(2 * np.pi * 180 * t) * 32767).astype(np.int16)


def feed_in_pieces(endpointer: EnergyEndpointer, audio: np.ndarray, piece: int = 320) -> list:
    events = []
    for start in range(0, len(audio), piece):
        events += endpointer.feed(audio[start : start + piece])
    return events


def test_endpointing_finds_start_and_end_with_the_utterance() -> None:
    endpointer = EnergyEndpointer(start_ms=60, end_ms=300)
    quiet = np.zeros(8000, np.int16)
    events = feed_in_pieces(endpointer, np.concatenate([quiet, tone(1.0), quiet, quiet]))
    assert [e.edge for e in events] == [Edge.START, Edge.END]
    start, end = events
    assert abs(start.sample - 8000) <= 320 and abs(end.sample - 24000) <= 320
    assert end.audio is not None and 16000 <= len(end.audio) <= 16000 + 8000


def test_a_short_pause_does_not_end_the_utterance_and_noise_is_not_speech() -> None:
    endpointer = EnergyEndpointer(start_ms=60, end_ms=400)
    rng = np.random.default_rng(0)
    noise = (rng.normal(0, 0.004, 16000) * 32767).astype(np.int16)
    pause = np.zeros(3200, np.int16)  # 200 ms
    events = feed_in_pieces(endpointer, np.concatenate([noise, tone(0.5), pause, tone(0.5), np.zeros(9600, np.int16)]))
    assert [e.edge for e in events] == [Edge.START, Edge.END]


def frame(index: int) -> VideoFrame:
    return VideoFrame(image=np.zeros((2, 2, 3), np.uint8), index=index)


def test_the_timeline_plays_scheduled_audio_at_its_sample_and_silence_elsewhere() -> None:
    timeline = MediaTimeline()
    start = timeline.reserve(lead_samples=1000)
    assert start == SAMPLES_PER_FRAME  # rounded up to a video frame edge
    timeline.add_audio(start, np.full(960, 7, np.int16))
    first, speech = timeline.read_audio(960)
    assert not speech and not first.any()
    _, speech = timeline.read_audio(960)
    assert not speech
    third, speech = timeline.read_audio(960)
    assert speech and (third == 7).all()
    assert not timeline.speaking


def test_flushing_drops_unplayed_speech_and_frames() -> None:
    timeline = MediaTimeline()
    start = timeline.reserve(0)
    timeline.add_audio(start, np.full(48000, 5, np.int16))
    for i in range(25):
        timeline.add_frame(i, frame(i))
    timeline.read_audio(960)
    assert timeline.speaking and timeline.in_speech(3)
    timeline.flush()
    assert not timeline.speaking and not timeline.in_speech(3)
    assert timeline.take_frame(3) is None
    samples, speech = timeline.read_audio(960)
    assert not speech and not samples.any()
    assert timeline.reserve(0) >= timeline.audio_position


def test_a_second_reply_queues_after_the_first() -> None:
    timeline = MediaTimeline()
    first = timeline.reserve(0)
    timeline.add_audio(first, np.ones(5000, np.int16))
    later = timeline.reserve(0)
    assert later >= first + 5000 and later % SAMPLES_PER_FRAME == 0


def test_frames_are_taken_by_index_and_stale_ones_dropped() -> None:
    timeline = MediaTimeline()
    for i in (3, 4, 5):
        timeline.add_frame(i, frame(i))
    assert timeline.take_frame(4).index == 4
    assert 3 not in timeline.frames
    timeline.add_frame(2, frame(2))  # already shown: ignored
    assert 2 not in timeline.frames


def test_events_round_trip_as_json_with_a_type() -> None:
    for event in (
        StateEvent(AvatarState.SPEAKING),
        CaptionEvent(role="user", text="hi", turn=2),
        EmotionEvent(Emotion.SAD),
    ):
        text = encode(event)
        assert '"type":' in text
        assert decode(text) == event


def test_a_pause_is_announced_before_the_end_and_retracted_if_speech_resumes() -> None:
    endpointer = EnergyEndpointer(start_ms=60, end_ms=400, pause_ms=200)
    events = feed_in_pieces(
        endpointer, np.concatenate([tone(0.5), np.zeros(4800, np.int16), tone(0.5), np.zeros(8000, np.int16)])
    )
    assert [e.edge for e in events] == [Edge.START, Edge.PAUSE, Edge.RESUME, Edge.PAUSE, Edge.END]
    assert np.array_equal(events[3].audio, events[4].audio)  # the last pause already had the whole utterance
