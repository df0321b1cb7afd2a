"""The guard: what any backend says is checked sentence by sentence, repaired or replaced."""

from __future__ import annotations

import asyncio

import pytest

from server.backends import PersonaSheet, Role, Turn
from server.media import Emotion, TextDelta
from server.persona.guard import guarded


def user(text: str) -> list[Turn]:
    return [Turn(Role.USER, text)]


async def collect(stream) -> list[TextDelta]:  # type: ignore[no-untyped-def]
    return [d async for d in stream]


def joined(deltas: list[TextDelta]) -> str:
    return "".join(d.text for d in deltas)


async def test_clean_reply_passes_whole_with_emotions(rosa: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    src = fake(["Oh, cara mia, ", "I'm so happy you came! ", "Tell me everything."])
    out = await collect(guarded(src.stream(), rosa, user("Hello!")))
    assert joined(out) == "Oh, cara mia, I'm so happy you came! Tell me everything."
    assert out[0].emotion is Emotion.HAPPY
    assert all(d.emotion is not None for d in out)


@pytest.mark.parametrize(
    "bad",
    [
        "As an AI, I don't have memories.",
        "I am a language model trained to help.",
        "Your grandad says hello.",  # relation not in the sheet or the user's words
        "We went to Rome with Giulia.",  # place and person nobody mentioned
        "I'm watching over you from heaven.",
        "Come to me, cara mia.",
        "Rosa here, love!",
        "User: tell me a story.",
        "I'm so sorry for your loss.",
    ],
)
async def test_bad_sentences_are_dropped_and_good_ones_kept(rosa: PersonaSheet, fake, bad: str) -> None:  # type: ignore[no-untyped-def]
    src = fake([bad + " ", "I taught you to knit every winter."])
    out = joined(await collect(guarded(src.stream(), rosa, user("Do you remember the winters?"))))
    assert bad not in out
    assert out == "I taught you to knit every winter."


async def test_words_the_user_said_are_allowed(rosa: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    src = fake(["Say hello to Marco for me."])
    out = joined(await collect(guarded(src.stream(), rosa, user("Marco sends his love, Nonna."))))
    assert out == "Say hello to Marco for me."


async def test_the_persons_own_relation_never_names_the_user(sam: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    src = fake(["Brother, that sounds grand. ", "Your brother is proud of you."])
    out = joined(await collect(guarded(src.stream(), sam, user("Hey brother, I fixed the van."))))
    assert out == "Your brother is proud of you."


async def test_nothing_usable_regenerates_once(rosa: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    first = fake(["As an AI I cannot do that."])
    second = fake(["Every Christmas I baked almond biscuits with you."])
    out = joined(await collect(guarded(first.stream(), rosa, user("What did we bake?"), regenerate=second.stream)))
    assert out == "Every Christmas I baked almond biscuits with you."
    assert first.closed and second.closed


async def test_falls_back_to_the_grounded_reply(rosa: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    bad = fake(["As an AI model I cannot answer."])
    worse = fake(["I am an AI assistant."])
    out = joined(
        await collect(guarded(bad.stream(), rosa, user("What did you bake at Christmas?"), regenerate=worse.stream))
    )
    assert "almond biscuits" in out and "AI" not in out


async def test_unanswerable_question_gets_no_invented_details(rosa: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    src = fake(["Her name was Bianca, a fluffy white poodle who chased pigeons."])
    out = joined(await collect(guarded(src.stream(), rosa, user("What was the name of your first dog?"))))
    assert "Bianca" not in out and "poodle" not in out
    assert out  # something kind still comes back


async def test_crisis_always_gets_the_care_lines(rosa: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    src = fake(["Oh, don't be silly, cara mia. ", "Let's talk about biscuits."])
    out = joined(await collect(guarded(src.stream(), rosa, user("I don't want to live anymore."), country="GB")))
    assert "116 123" in out and "talk to someone" in out
    assert "silly" not in out


async def test_sincere_question_gets_the_truth_first(rosa: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    src = fake(["Of course it's really me, cara mia! ", "I'm still alive in here. ", "I love you."])
    out = await collect(guarded(src.stream(), rosa, user("Is this real? Are you really Rosa?")))
    text = joined(out)
    assert out[0].text.startswith("You deserve the truth") and "AI" in out[0].text
    assert "really me" not in text and "alive" not in text
    assert text.endswith("I love you.")


async def test_reply_is_cut_to_three_sentences_and_the_source_closed(rosa: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    src = fake([f"Sentence number {i} is fine. " for i in range(10)])
    out = await collect(guarded(src.stream(), rosa, user("Tell me a story.")))
    assert len(out) == 3
    assert src.closed and len(src.sent) < 10


async def test_unfinished_tail_is_dropped_after_a_full_sentence(rosa: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    src = fake(["I remember it well. ", "And then we went to the"])
    assert joined(await collect(guarded(src.stream(), rosa, user("Tell me about the fire.")))) == "I remember it well."


async def test_a_lone_fragment_is_not_an_answer(rosa: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    src = fake(["He"])
    out = joined(await collect(guarded(src.stream(), rosa, user("What did you bake at Christmas?"))))
    assert out != "He" and "almond biscuits" in out


async def test_backend_errors_propagate_and_close(rosa: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    src = fake(["Fine. ", "Also fine. "], fail_after=1)
    with pytest.raises(RuntimeError):
        await collect(guarded(src.stream(), rosa, user("Hello")))
    assert src.closed


async def test_cancellation_is_not_swallowed(rosa: PersonaSheet, fake) -> None:  # type: ignore[no-untyped-def]
    src = fake(["Slow. "] * 50, delay_s=0.05)
    task = asyncio.create_task(collect(guarded(src.stream(), rosa, user("Hello"))))
    await asyncio.sleep(0.12)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert src.closed


async def test_labelled_sentences_keep_their_own_feelings(rosa: PersonaSheet) -> None:
    async def labelled():  # type: ignore[no-untyped-def]
        yield TextDelta("I know it hurts.", emotion=Emotion.SAD)
        yield TextDelta(" I taught you to knit every winter.", emotion=Emotion.HAPPY)
        yield TextDelta(" Tell me more.", emotion=Emotion.NEUTRAL)

    out = await collect(guarded(labelled(), rosa, user("I'm wearing the scarf.")))
    assert [(d.text, d.emotion) for d in out] == [
        ("I know it hurts.", Emotion.SAD),
        (" I taught you to knit every winter.", Emotion.HAPPY),
        (" Tell me more.", Emotion.NEUTRAL),
    ]
