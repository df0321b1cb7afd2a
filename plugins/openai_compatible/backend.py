"""OpenAICompatiblePersona: streams /chat/completions over SSE from a self-hosted model server.

For self-hosters with a home GPU box running Ollama (`http://HOST:11434/v1`), llama.cpp's
server or llama-cpp-python's (`http://HOST:8080/v1`) or vLLM (`http://HOST:8000/v1`). Retries
connection failures and 429/5xx before the first token; every failure says what to check.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from server.backends import BackendInfo, BackendKind, BackendStatus, Readiness
from server.backends.config import options_for
from server.errors import BackendFailure, ConfigError
from server.persona.chat import ChatPersonaBackend
from server.persona.config import ChatConfig
from server.persona.prompt import ChatPrompt

log = logging.getLogger(__name__)
RETRY_STATUS = {429, 500, 502, 503, 504}
CONFIG_HINT = "check [config.openai_compatible] base_url, model and api_key in plugin_registry.toml"


class OpenAICompatibleConfig(ChatConfig, frozen=True):
    """`[config.openai_compatible]`."""

    base_url: str = ""  # .../v1 of the model server
    model: str = ""
    api_key: str = ""


class OpenAICompatiblePersona(ChatPersonaBackend):
    """Config: base_url (…/v1), model, api_key, timeout_s, retries, temperature, max_tokens."""

    info = BackendInfo(
        name="openai_compatible",
        kind=BackendKind.PERSONA,
        description="Any OpenAI-compatible chat server (Ollama, llama.cpp server, vLLM), streamed; guarded.",
        streaming=True,
        device="any",
        realtime=True,
        requires=("httpx",),
        install="pip install httpx==0.28.1",
        config=OpenAICompatibleConfig,
        secrets={"api_key": "MEMORIA_OPENAI_API_KEY"},
        docs="plugins/openai_compatible/README.md",
    )
    options: OpenAICompatibleConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def status(
        cls, weights_dir: Path, config: Mapping[str, Any] | OpenAICompatibleConfig | None = None
    ) -> BackendStatus:
        status = super().status(weights_dir, config)
        if status.ready and not options_for(cls.info, config).base_url.startswith(("http://", "https://")):
            return BackendStatus(Readiness.NEEDS_CONFIG, detail="no model server configured", fix=CONFIG_HINT)
        return status

    @property
    def base_url(self) -> str:
        return self.options.base_url.rstrip("/")

    async def load(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError("openai_compatible needs a base_url such as http://127.0.0.1:11434/v1", hint=CONFIG_HINT)
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.options.api_key}"} if self.options.api_key else {}
            timeout = httpx.Timeout(self.options.timeout_s, connect=5.0)
            self._client = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout)
        await self.load_retriever()

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        await super().aclose()

    def _body(self, prompt: ChatPrompt) -> dict[str, Any]:
        messages = [{"role": "system", "content": prompt.system}]
        messages += [{"role": role, "content": text} for role, text in prompt.messages]
        body: dict[str, Any] = {
            "messages": messages,
            "stream": True,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        if self.options.model:
            body["model"] = self.options.model
        return body

    async def stream_text(self, prompt: ChatPrompt) -> AsyncIterator[str]:
        if self._client is None:
            await self.load()
        assert self._client is not None
        retries = self.options.retries
        body = self._body(prompt)
        for attempt in range(retries + 1):
            started = False
            try:
                async with self._client.stream("POST", "/chat/completions", json=body) as response:
                    if response.status_code in RETRY_STATUS and attempt < retries:
                        log.info("openai_compatible: HTTP %s, retrying", response.status_code)
                        await asyncio.sleep(0.25 * 2**attempt)
                        continue
                    if response.status_code != 200:
                        await response.aread()
                        raise _failure(response, self.base_url)
                    async for text in _sse_text(response):
                        started = True
                        yield text
                    return
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.RemoteProtocolError) as exc:
                if started or attempt >= retries:
                    raise BackendFailure(
                        f"openai_compatible: no answer from {self.base_url}: {exc.__class__.__name__}",
                        hint="is the model server running and reachable? " + CONFIG_HINT,
                    ) from exc
                log.info("openai_compatible: %s, retrying", exc.__class__.__name__)
                await asyncio.sleep(0.25 * 2**attempt)


async def _sse_text(response: httpx.Response) -> AsyncIterator[str]:
    """Content pieces from an SSE stream of chat.completion.chunk objects (or one plain JSON body)."""
    if "text/event-stream" not in response.headers.get("content-type", "text/event-stream"):
        data = json.loads(await response.aread())
        yield _content(data, delta=False)
        return
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue  # blank separators, ": keep-alive" comments, event: lines
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            data = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise BackendFailure(f"openai_compatible: the server sent malformed JSON: {payload[:120]!r}") from exc
        if "error" in data:
            raise BackendFailure(f"openai_compatible: the server reported an error: {data['error']}")
        text = _content(data, delta=True)
        if text:
            yield text


def _content(data: dict[str, Any], *, delta: bool) -> str:
    choices = data.get("choices") or [{}]
    part = choices[0].get("delta" if delta else "message") or {}
    return str(part.get("content") or "")


def _failure(response: httpx.Response, base_url: str) -> BackendFailure:
    detail = response.text[:200].strip()
    if response.status_code in (401, 403):
        return BackendFailure(
            f"openai_compatible: {base_url} refused the API key ({response.status_code})", hint=CONFIG_HINT
        )
    if response.status_code == 404:
        return BackendFailure(
            f"openai_compatible: {base_url}/chat/completions or the model was not found: {detail}", hint=CONFIG_HINT
        )
    return BackendFailure(f"openai_compatible: HTTP {response.status_code} from {base_url}: {detail}", hint=CONFIG_HINT)
