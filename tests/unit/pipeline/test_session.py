"""A whole call driven in fast-forward through the session, with the basic backends as fakes."""

from __future__ import annotations

import numpy as np

from server.backends import Role
from server.media import AvatarState
from server.pipeline.events import CaptionEvent, EndedEvent, ErrorEvent, StateEvent
from server.pipeline.session import SessionConfig


def states(events: list) -> list[AvatarState]:
    return [e.state for e in events if isinstance(e, StateEvent)]


async def test_a_turn_is_heard_answered_spoken_animated_and_kept(make_session, driver, speech, silence) -> None:
    session, log, events = make_session(asr={"script": ["hello mum, how are you?"]})
    await session.start()
    driver = driver(session)
    await driver.play(np.concatenate([silence(0.3), speech(1.0), silence(10.0)]))
    await session.close("hangup")

    assert [m.role for m in log.messages] == [Role.USER, Role.AVATAR]
    assert log.messages[0].text == "hello mum, how are you?"
    assert "Tom" in log.messages[1].text and "bread" in log.messages[1].text
    assert log.messages[1].flags == {}
    assert log.end_reason == "hangup"
    assert states(events)[:4] == [
        AvatarState.LISTENING,
        AvatarState.THINKING,
        AvatarState.SPEAKING,
        AvatarState.LISTENING,
    ]
    assert isinstance(events[-1], EndedEvent)
    # The reply is heard: seconds of speech audio after the user's utterance ended.
    assert len(driver.speech_steps) * 0.02 > 2.0
    assert driver.speech_steps[0] * 0.02 > 1.3
    # The face never froze and every speaking frame was ready in time.
    assert driver.frames == (driver.step + 1) // 2
    assert driver.late == 0


async def test_reply_starts_soon_after_the_user_stops(make_session, driver, speech, silence) -> None:
    config = SessionConfig(speech_end_ms=300, lead_ms=80)
    session, _, _ = make_session(config)
    await session.start()
    driver = driver(session)
    await driver.play(np.concatenate([speech(1.0), silence(3.0)]))
    await session.close()
    first_speech_s = driver.speech_steps[0] * 0.02
    # end of speech at 1.0 s; endpointing waits 0.3 s, the reply is placed 80 ms ahead, plus chunking
    assert 1.3 <= first_speech_s <= 1.6


async def test_barge_in_stops_the_avatar_and_keeps_what_was_said(make_session, driver, speech, silence) -> None:
    session, log, _ = make_session()
    await session.start()
    driver = driver(session)
    await driver.play(np.concatenate([speech(1.0), silence(2.0)]))
    assert session.state is AvatarState.SPEAKING
    barge_step = driver.step
    await driver.play(np.concatenate([speech(0.6), silence(0.1)]))
    await session.close()

    assert session.barge_ins == 1
    # silent within start_ms (60 ms) + one 20 ms frame of the user starting to talk
    assert [s for s in driver.speech_steps if s >= barge_step + 4] == []
    avatar = [m for m in log.messages if m.role is Role.AVATAR]
    assert len(avatar) == 1 and avatar[0].flags == {"interrupted": True}
    assert avatar[0].text.startswith("Hello Tom")
    full_reply_sentences = 4
    assert avatar[0].text.count(".") + avatar[0].text.count("?") < full_reply_sentences


async def test_a_voice_failing_mid_reply_keeps_the_call_and_the_words(make_session, driver, speech, silence) -> None:
    session, log, events = make_session(voice={"fake_exception_after": 12})
    await session.start()
    driver = driver(session)
    await driver.play(np.concatenate([speech(0.8), silence(4.0)]))
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert errors and not errors[0].fatal
    assert "fake failure" not in errors[0].message and "reply stopped" in errors[0].message  # words, not internals
    avatar = [m for m in log.messages if m.role is Role.AVATAR]
    assert len(avatar) == 1 and "fake failure" in avatar[0].flags["error"] and avatar[0].text
    assert session.state is AvatarState.LISTENING
    # the call goes on: a second turn is still heard and kept
    await driver.play(np.concatenate([speech(0.8), silence(1.0)]))
    await session.close()
    assert [m.role for m in log.messages].count(Role.USER) == 2


async def test_a_persona_failing_before_any_word_keeps_the_user_message(make_session, driver, speech, silence) -> None:
    session, log, events = make_session(persona={"fake_exception_after": 0})
    await session.start()
    driver = driver(session)
    await driver.play(np.concatenate([speech(0.8), silence(1.5)]))
    await session.close()
    assert [m.role for m in log.messages] == [Role.USER]
    assert any(isinstance(e, ErrorEvent) for e in events)
    assert driver.late == 0 and driver.frames == (driver.step + 1) // 2


async def test_hanging_up_mid_reply_ends_the_call_and_keeps_the_started_sentence(
    make_session, driver, speech, silence
) -> None:
    session, log, events = make_session()
    await session.start()
    driver = driver(session)
    await driver.play(np.concatenate([speech(1.0), silence(1.5)]))
    assert session.state is AvatarState.SPEAKING
    await session.close("disconnected")
    await session.close("twice")  # idempotent
    assert log.end_reason == "disconnected"
    avatar = [m for m in log.messages if m.role is Role.AVATAR]
    assert len(avatar) == 1 and avatar[0].flags == {"interrupted": True}
    assert session.backends.voice.closed and session.backends.animator.closed
    assert [e for e in events if isinstance(e, EndedEvent)] == [EndedEvent(reason="disconnected")]


async def test_captions_carry_both_sides(make_session, driver, speech, silence) -> None:
    session, _, events = make_session(asr={"script": ["are you there?"]})
    await session.start()
    await driver(session).play(np.concatenate([speech(0.8), silence(10.0)]))
    await session.close()
    captions = [e for e in events if isinstance(e, CaptionEvent)]
    assert captions[0] == CaptionEvent(role="user", text="are you there?", turn=1)
    final = [c for c in captions if c.role == "avatar" and c.final]
    partial = [c.text for c in captions if c.role == "avatar" and not c.final]
    assert len(final) == 1 and final[0].text == " ".join(partial)


async def test_a_pause_mid_sentence_prepares_a_reply_unseen_and_drops_it(make_session, driver, speech, silence) -> None:
    session, log, events = make_session()
    await session.start()
    drive = driver(session)
    # 300 ms of quiet: past the 200 ms pause (a reply starts unseen), short of the 400 ms end
    await drive.play(np.concatenate([speech(0.6), silence(0.3), speech(0.6), silence(1.0)]))
    await session.close()
    assert session.speculations_dropped == 1
    user = [m.text for m in log.messages if m.role is Role.USER]
    assert user == ["[speech 1.2 s]"]  # one utterance, both halves
    captions = [e for e in events if isinstance(e, CaptionEvent) and e.role == "user"]
    assert [c.turn for c in captions] == [1]
    assert states(events).count(AvatarState.THINKING) == 1


async def test_preparing_at_the_pause_hides_a_slow_persona(make_session, driver, speech, silence) -> None:
    async def first_speech_s(speculate_ms: int) -> float:
        session, _, _ = make_session(SessionConfig(speculate_ms=speculate_ms), persona={"fake_first_delay_ms": 150})
        await session.start()
        drive = driver(session)
        await drive.play(np.concatenate([speech(1.0), silence(2.0)]), step_s=0.02)  # real time: the delay is real
        await session.close()
        return drive.speech_steps[0] * 0.02

    early, late = await first_speech_s(200), await first_speech_s(0)
    assert late - early >= 0.1


async def test_words_of_crisis_raise_a_flag_to_the_client_and_on_the_rows(
    make_session, driver, speech, silence
) -> None:
    from server.pipeline.events import FlagEvent

    session, log, events = make_session(asr={"script": ["I want to end my life"]})
    await session.start()
    await driver(session).play(np.concatenate([speech(0.8), silence(10.0)]))
    await session.close()
    flags = [e.flags for e in events if isinstance(e, FlagEvent)]
    assert len(flags) == 1 and flags[0]["crisis"] is True and flags[0]["crisis_line"]["name"]
    assert log.messages[0].flags["crisis"] is True  # on the user's words
    assert log.messages[1].role is Role.AVATAR and log.messages[1].flags["crisis"] is True  # and on the reply


async def test_recognition_is_primed_with_the_names_of_the_sheet(make_session, driver, speech, silence) -> None:
    session, _, _ = make_session(asr={"script": ["hello"]})
    await session.start()
    await driver(session).play(np.concatenate([speech(1.0), silence(3.0)]))
    await session.close()
    hints = session.backends.asr.hints
    assert hints and all(h == "We talk about Ann, Tom and Sundays." for h in hints)


async def test_an_asr_backend_without_a_hint_argument_still_works(make_session, driver, speech, silence) -> None:
    from plugins.basic.backend import BasicASR

    from .conftest import make_backends

    class OlderASR(BasicASR):  # written before `hint` existed
        async def transcribe(self, audio, *, language=None):  # type: ignore[override]
            async for transcript in super().transcribe(audio, language=language):
                yield transcript

    backends = make_backends(asr={"script": ["hello there"]})
    backends.asr = OlderASR({"script": ["hello there"]})
    session, log, _ = make_session(backends=backends)
    await session.start()
    await driver(session).play(np.concatenate([speech(1.0), silence(3.0)]))
    await session.close()
    assert log.messages[0].text == "hello there" and log.messages[1].text
