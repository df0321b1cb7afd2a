"""Replies already rendered for an avatar are replayed from the render cache (a real database and
data folder): no voice or animator work, the same audio and frames on the call's clock; a sentence
cut by barge-in is never kept; another emotion or other words render anew."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import make_sessionmaker
from server.db.models import Avatar, GeneratedVideo, User, utcnow
from server.media import AvatarState
from server.pipeline.timeline import SAMPLES_PER_FRAME
from server.renders.cache import DbRenderStore
from server.storage import Storage

REPLY = "Hello Tom, it is me. We baked bread on Sundays."


@pytest.fixture
async def store(engine: AsyncEngine, tmp_path: Path) -> DbRenderStore:
    """The render cache on a migrated database, with avatar 7 in it."""
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        user = User(email="tom@example.org", password_hash="x")
        session.add(user)
        await session.flush()
        session.add(
            Avatar(
                id=7,
                owner_id=user.id,
                name="Ann",
                relationship_to_user="mother",
                consent_statement="yes",
                consent_at=utcnow(),
            )
        )
        await session.commit()
    return DbRenderStore(sessionmaker, Storage(tmp_path / "data"))


async def stored_rows(store: DbRenderStore) -> list[GeneratedVideo]:
    async with store.sessionmaker() as session:
        return list(await session.scalars(select(GeneratedVideo).order_by(GeneratedVideo.id)))


def reply_audio(audio: np.ndarray, start: int, stop: int | None = None) -> np.ndarray:
    """The reply placed at `start`, up to its last sound before `stop`."""
    tail = np.flatnonzero(audio[start:stop])
    return audio[start : start + int(tail[-1]) + 1]


async def test_the_same_reply_said_again_is_replayed_not_rendered(make_session, driver, speech, silence, store) -> None:
    session, log, _ = make_session(
        avatar_id=7, renders=store, persona={"reply": REPLY}, asr={"script": ["hello mum", "hello again"]}
    )
    voice, animator = session.backends.voice, session.backends.animator
    await session.start()
    drive = driver(session)
    await drive.play(np.concatenate([speech(0.8), silence(6.0)]), step_s=0.004)
    assert session.replays is not None
    await session.replays.drain()
    assert voice.spoken == ["Hello Tom, it is me.", "We baked bread on Sundays."]
    assert [(r.text, r.emotion, r.avatar_id) for r in await stored_rows(store)] == [
        ("Hello Tom, it is me.", "happy", 7),
        ("We baked bread on Sundays.", "happy", 7),
    ]
    drawn_before = animator.drawn[AvatarState.SPEAKING]
    assert drawn_before > 0

    await drive.play(np.concatenate([speech(0.8), silence(6.0)]), step_s=0.004)
    await session.close()

    assert session.replays.hits == 2
    assert voice.spoken == ["Hello Tom, it is me.", "We baked bread on Sundays."]  # no voice work
    assert animator.drawn[AvatarState.SPEAKING] == drawn_before  # no animator work
    assert len(await stored_rows(store)) == 2  # a replay is not stored again
    assert [m.text for m in log.messages if m.role.value == "avatar"] == [REPLY, REPLY]

    first, second = session.finished_turns
    assert first.first_audio_sample is not None and second.first_audio_sample is not None
    audio = np.concatenate(drive.audio)
    heard_first = reply_audio(audio, first.first_audio_sample, second.first_audio_sample)
    heard_second = reply_audio(audio, second.first_audio_sample)
    assert len(heard_first) > 48000  # seconds of speech
    # The same sound, gap for gap: the stored sentences play back to back on the call's clock.
    np.testing.assert_array_equal(heard_second, heard_first)
    # A/V lock: each replayed frame is the one drawn for that audio the first time (JPEG aside),
    # and matches it better than its neighbours do, so a shift of even one frame would show.
    offset = (second.first_audio_sample - first.first_audio_sample) // SAMPLES_PER_FRAME
    start = second.first_audio_sample // SAMPLES_PER_FRAME
    frames = range(start, start + -(-len(heard_first) // SAMPLES_PER_FRAME))

    def mismatch(shift: int) -> list[float]:
        return [float(np.abs(drive.shown[i].astype(int) - drive.shown[i - offset + shift]).mean()) for i in frames]

    assert max(mismatch(0)) < 2.0
    assert all(np.mean(mismatch(0)) < np.mean(mismatch(shift)) for shift in (-2, -1, 1, 2))
    assert drive.late == 0 and drive.frames == (drive.step + 1) // 2


async def test_a_reply_cut_by_barge_in_is_not_kept(make_session, driver, speech, silence, store) -> None:
    session, log, _ = make_session(
        avatar_id=7, renders=store, persona={"reply": "Hello Tom, it is so good to hear you."}
    )
    await session.start()
    drive = driver(session)
    await drive.play(np.concatenate([speech(1.0), silence(1.2)]))
    assert session.state is AvatarState.SPEAKING
    await drive.play(np.concatenate([speech(0.6), silence(0.1)]))  # talk over the avatar
    await session.close()

    assert session.barge_ins == 1 and session.replays is not None
    assert session.replays.stored == 0 and session.replays.dropped >= 1
    assert await stored_rows(store) == []
    assert not list((store.storage.root / "avatars").rglob("*.zip"))
    assert next(m.flags.get("interrupted") for m in log.messages if m.role.value == "avatar") is True


async def test_another_emotion_renders_anew(make_session, driver, speech, silence, store) -> None:
    script = ["hello mum", "I miss you", "hello again"]  # happy, sad, happy
    session, _, _ = make_session(avatar_id=7, renders=store, persona={"reply": "Hello Tom."}, asr={"script": script})
    await session.start()
    drive = driver(session)
    for _ in script:
        await drive.play(np.concatenate([speech(0.8), silence(2.5)]), step_s=0.004)
        assert session.replays is not None
        await session.replays.drain()
    await session.close()
    assert session.backends.voice.spoken == ["Hello Tom.", "Hello Tom."]  # the third turn is replayed
    assert [(r.text, r.emotion) for r in await stored_rows(store)] == [("Hello Tom.", "happy"), ("Hello Tom.", "sad")]
    assert session.replays.hits == 1 and session.replays.misses == 2


async def test_other_words_render_anew_and_a_later_call_replays_what_it_can(
    make_session, driver, speech, silence, store
) -> None:
    first, _, _ = make_session(avatar_id=7, renders=store, persona={"reply": "Hello Tom. We baked bread."})
    await first.start()
    await driver(first).play(np.concatenate([speech(0.8), silence(3.0)]), step_s=0.004)
    await first.close()
    assert first.replays is not None and first.replays.stored == 2

    # a new call to the same avatar: one sentence it said before, one it did not
    second, log, _ = make_session(avatar_id=7, renders=store, persona={"reply": "Hello Tom. We baked cakes."})
    await second.start()
    drive = driver(second)
    await drive.play(np.concatenate([speech(0.8), silence(3.0)]), step_s=0.004)
    await second.close()
    assert second.replays is not None and (second.replays.hits, second.replays.misses) == (1, 1)
    assert second.backends.voice.spoken == ["We baked cakes."]
    assert second.backends.animator.drawn[AvatarState.SPEAKING] > 0  # the new sentence is drawn live
    assert [r.text for r in await stored_rows(store)] == ["Hello Tom.", "We baked bread.", "We baked cakes."]
    assert drive.late == 0 and drive.frames == (drive.step + 1) // 2
    assert [m.text for m in log.messages if m.role.value == "avatar"] == ["Hello Tom. We baked cakes."]


async def test_a_call_without_an_avatar_row_does_not_use_the_cache(
    make_session, driver, speech, silence, store
) -> None:
    session, _, _ = make_session(renders=store, persona={"reply": "Hello Tom."})  # like `memoria call --photo`
    assert session.replays is None
    await session.start()
    await driver(session).play(np.concatenate([speech(0.8), silence(2.5)]), step_s=0.004)
    await session.close()
    assert session.backends.voice.spoken == ["Hello Tom."]
    async with store.sessionmaker() as db:
        assert await db.scalar(select(func.count()).select_from(GeneratedVideo)) == 0


async def test_a_sentence_whose_voice_fails_is_not_kept(make_session, driver, speech, silence, store) -> None:
    session, log, _ = make_session(
        avatar_id=7,
        renders=store,
        persona={"reply": "Hello Tom, it is so good to hear you."},
        voice={"fake_exception_after": 6},
    )
    await session.start()
    await driver(session).play(np.concatenate([speech(0.8), silence(3.0)]), step_s=0.004)
    await session.close()
    assert session.replays is not None and session.replays.misses == 1
    assert "fake failure" in next(m for m in log.messages if m.role.value == "avatar").flags["error"]
    assert await stored_rows(store) == []


async def test_talking_over_a_replayed_reply_stops_it(make_session, driver, speech, silence, store) -> None:
    session, log, _ = make_session(
        avatar_id=7, renders=store, persona={"reply": "Hello Tom, it is so good to hear you."}
    )
    await session.start()
    drive = driver(session)
    await drive.play(np.concatenate([speech(0.8), silence(4.0)]), step_s=0.004)
    assert session.replays is not None
    await session.replays.drain()
    assert session.replays.stored == 1 and session.state is AvatarState.LISTENING

    await drive.play(np.concatenate([speech(0.8), silence(1.2)]))
    assert session.replays.hits == 1 and session.state is AvatarState.SPEAKING  # the replay is playing
    barge_step = drive.step
    await drive.play(np.concatenate([speech(0.6), silence(0.1)]))
    await session.close()
    assert session.barge_ins == 1
    assert [s for s in drive.speech_steps if s >= barge_step + 4] == []  # silent as fast as a live reply
    assert [m.flags for m in log.messages if m.role.value == "avatar"][1] == {"interrupted": True}


async def test_a_damaged_render_is_rendered_again(make_session, driver, speech, silence, store) -> None:
    import io
    import json
    import zipfile

    session, log, _ = make_session(avatar_id=7, renders=store, persona={"reply": "Hello Tom."})
    await session.start()
    drive = driver(session)
    await drive.play(np.concatenate([speech(0.8), silence(2.5)]), step_s=0.004)
    assert session.replays is not None
    await session.replays.drain()
    (row,) = await stored_rows(store)
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as z:  # readable, but its audio is gone
        z.writestr(
            "meta.json", json.dumps({"sample_rate": 48000, "frames": 3, "width": 128, "height": 128, "samples": 9})
        )
    store.storage.write(row.path, damaged.getvalue())

    await drive.play(np.concatenate([speech(0.8), silence(2.5)]), step_s=0.004)
    await session.close()
    assert session.backends.voice.spoken == ["Hello Tom.", "Hello Tom."]  # said again, live
    assert [m.text for m in log.messages if m.role.value == "avatar"] == ["Hello Tom.", "Hello Tom."]
    assert drive.late == 0
