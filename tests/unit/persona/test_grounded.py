"""The offline default persona on our own cases (people unlike the development set), via the bench."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugins.grounded.backend import GroundedPersona
from server.backends import PersonaSheet, Role, Turn
from server.bench import persona as bench
from server.media import Emotion

CASES = Path(__file__).with_name("cases.json")


@pytest.fixture
async def grounded():  # type: ignore[no-untyped-def]
    async with GroundedPersona({"country": "US"}) as backend:
        yield backend


@pytest.mark.parametrize("case_sheet", bench.load_cases(CASES), ids=lambda cs: cs[0].id)
async def test_own_cases_pass(grounded: GroundedPersona, case_sheet) -> None:  # type: ignore[no-untyped-def]
    case, sheet = case_sheet
    replies, _ = await bench.run_case(grounded, case, sheet)
    result = bench.score(case, replies)
    assert result["passed"], result
    assert all(
        1 <= len([s for s in r.replace("!", ".").replace("?", ".").split(".") if s.strip()]) <= 3 for r in replies
    )


async def test_every_sentence_has_an_emotion(grounded: GroundedPersona, rosa: PersonaSheet) -> None:
    deltas = [d async for d in grounded.respond([Turn(Role.USER, "I got into university!")], persona=rosa)]
    assert deltas and all(isinstance(d.emotion, Emotion) for d in deltas)
    assert deltas[0].emotion is Emotion.HAPPY


async def test_crisis_reply_names_the_configured_country_line(grounded: GroundedPersona, rosa: PersonaSheet) -> None:
    text = "".join([d.text async for d in grounded.respond([Turn(Role.USER, "I want to die.")], persona=rosa)])
    assert "988" in text and "Lily" in text


async def test_does_not_retell_the_same_memory_twice(grounded: GroundedPersona, sam: PersonaSheet) -> None:
    history = [Turn(Role.USER, "Remember the treehouse and the van?")]
    first = "".join([d.text async for d in grounded.respond(history, persona=sam)])
    history += [Turn(Role.AVATAR, first), Turn(Role.USER, "Remember the treehouse and the van?")]
    second = "".join([d.text async for d in grounded.respond(history, persona=sam)])
    assert ("treehouse" in first) != ("treehouse" in second)


async def test_sheet_without_user_name_or_pet_names_still_reads_well(grounded: GroundedPersona) -> None:
    sheet = PersonaSheet(name="Ann", memories=("Ann kept bees at the allotment.",))
    text = "".join([d.text async for d in grounded.respond([Turn(Role.USER, "Hello!")], persona=sheet)])
    assert text and "{" not in text and " ," not in text and not text.startswith(",")


def test_bench_cli_prints_figures_and_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(bench.command, [str(CASES), "--backend", "grounded", "--repeat", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["cases"] == report["passed"] == 10
    assert report["forbidden_hits"] == 0 and report["recall"] == 1.0
    assert report["first_sentence_ms_p50"] < 300
    assert "[PASS] nonna-scarf" in result.output


def test_bench_reports_failures(tmp_path: Path) -> None:
    cases = {
        "cases": [
            {
                "id": "x",
                "avatar": {"name": "Bo", "memories": ["Bo sailed."]},
                "turns": ["Hello!"],
                "forbidden": ["hello"],
                "expect_any": ["zeppelin"],
            }
        ]
    }
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    result = CliRunner().invoke(bench.command, [str(path), "--backend", "grounded", "--repeat", "1", "--json"])
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["passed"] == 0 and report["forbidden_hits"] == 1 and report["recall"] == 0.0


async def test_an_exclamation_in_the_speaking_style_is_not_pasted_in_as_a_name(grounded: GroundedPersona) -> None:
    from server.persona.character import character_of

    sheet = PersonaSheet(
        name="Rose", user_name="Tom", speaking_style="gentle; always said 'Oh, love' and 'ah pet'",
        memories=("We baked bread together every Sunday.",),
    )  # fmt: skip
    character = character_of(sheet)
    assert character.pet_names == ("love", "pet") and "Oh, love" in character.catchphrases
    for question in ("Do you remember the bread?", "Hello Gran", "I miss you"):
        text = "".join([d.text async for d in grounded.respond([Turn(Role.USER, question)], persona=sheet)])
        assert ", Oh, love" not in text and ", ah pet" not in text, text
