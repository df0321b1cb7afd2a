"""The gemini persona against a loopback stand-in of the Gemini API (real SDK, real HTTP)."""

from __future__ import annotations

import pytest

from plugins.gemini.backend import GeminiPersona
from server.backends import PersonaSheet, Readiness, Role, Turn
from server.errors import BackendFailure, ConfigError

SHEET = PersonaSheet(
    name="Walter",
    relationship="grandfather",
    user_name="Ines",
    speaking_style="calls Ines 'sparrow'",
    memories=(
        "He taught Ines to play chess on the porch every summer.",
        "He kept pigeons in a loft behind the garage.",
    ),
)
ASK = [Turn(Role.USER, "Do you remember our chess games?")]


def backend(stand_in, **config) -> GeminiPersona:  # type: ignore[no-untyped-def]
    return GeminiPersona({"api_key": "test-key", "base_url": stand_in.url, "model": "gemini-test", **config})


async def reply(b: GeminiPersona, history=ASK) -> str:  # type: ignore[no-untyped-def]
    return "".join([d.text async for d in b.respond(history, persona=SHEET)])


async def test_streams_with_sheet_and_memories_in_the_system_instruction(stand_in) -> None:  # type: ignore[no-untyped-def]
    stand_in.replies = [["Of course, sparrow! ", "Every summer on the porch ", "we played chess."]]
    async with backend(stand_in) as b:
        deltas = [d async for d in b.respond(ASK, persona=SHEET)]
    assert "".join(d.text for d in deltas) == "Of course, sparrow! Every summer on the porch we played chess."
    assert all(d.emotion is not None for d in deltas)
    request = stand_in.requests[0]
    assert "gemini-test:streamGenerateContent" in request["path"]
    assert request["headers"].get("x-goog-api-key") == "test-key"
    system = request["body"]["systemInstruction"]["parts"][0]["text"]
    assert "You are Walter, Ines's grandfather." in system and "chess on the porch" in system
    assert request["body"]["contents"][-1] == {"role": "user", "parts": [{"text": "Do you remember our chess games?"}]}


async def test_retries_server_errors_before_the_first_token(stand_in) -> None:  # type: ignore[no-untyped-def]
    stand_in.fail_status = [503]
    stand_in.replies = [["I remember, sparrow."]]
    async with backend(stand_in) as b:
        assert await reply(b) == "I remember, sparrow."
    assert len(stand_in.requests) == 2


async def test_a_rejected_key_is_a_clear_error(stand_in) -> None:  # type: ignore[no-untyped-def]
    stand_in.fail_status = [403]
    async with backend(stand_in) as b:
        with pytest.raises(BackendFailure) as err:
            await reply(b)
    assert "403" in str(err.value) and "MEMORIA_GEMINI_API_KEY" in str(err.value)


async def test_invented_facts_are_regenerated(stand_in) -> None:  # type: ignore[no-untyped-def]
    stand_in.replies = [["Your aunt Carla says hello from Lisbon."], ["We played chess every summer, sparrow."]]
    async with backend(stand_in) as b:
        assert await reply(b) == "We played chess every summer, sparrow."
    assert "previous answer broke the rules" in stand_in.requests[1]["body"]["systemInstruction"]["parts"][0]["text"]


async def test_key_from_settings_and_missing_key(stand_in, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no memoria.toml here
    monkeypatch.delenv("MEMORIA_GEMINI_API_KEY", raising=False)
    assert GeminiPersona.status(tmp_path, {}).state is Readiness.NEEDS_CONFIG
    with pytest.raises(ConfigError):
        await GeminiPersona({"base_url": stand_in.url}).load()
    monkeypatch.setenv("MEMORIA_GEMINI_API_KEY", "from-env")
    assert GeminiPersona.status(tmp_path, {}).ready
    stand_in.replies = [["Hello, sparrow."]]
    async with GeminiPersona({"base_url": stand_in.url}) as b:
        assert await reply(b, [Turn(Role.USER, "Hi!")]) == "Hello, sparrow."
    assert stand_in.requests[0]["headers"].get("x-goog-api-key") == "from-env"


async def test_aclose_is_idempotent(stand_in) -> None:  # type: ignore[no-untyped-def]
    b = backend(stand_in)
    await b.load()
    await b.aclose()
    await b.aclose()
    assert b.closed
