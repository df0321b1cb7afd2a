"""GeminiPersona: streams a reply from Gemini with the sheet and memories in the system instruction.

Uses google-genai (the maintained successor of google-generativeai). The API key comes from
`[config.gemini] api_key` or the MEMORIA_GEMINI_API_KEY setting; `base_url` points the client
elsewhere (a proxy, or the loopback stand-in the tests run). Retries 429/5xx before the first token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from server.backends import BackendInfo, BackendKind, BackendStatus, Readiness
from server.backends.config import options_for
from server.errors import BackendFailure, ConfigError
from server.persona.chat import ChatPersonaBackend
from server.persona.config import ChatConfig
from server.persona.prompt import ChatPrompt

log = logging.getLogger(__name__)
DEFAULT_MODEL = "gemini-2.5-flash"
KEY_HINT = "set MEMORIA_GEMINI_API_KEY (or api_key under [config.gemini] in plugin_registry.toml)"
RETRY_CODES = {429, 500, 502, 503, 504}


class GeminiConfig(ChatConfig, frozen=True):
    """`[config.gemini]`; the key may come from MEMORIA_GEMINI_API_KEY instead."""

    api_key: str = ""
    model: str = DEFAULT_MODEL
    base_url: str = ""  # a proxy, or the loopback stand-in of the tests
    thinking_budget: int = 0


class GeminiPersona(ChatPersonaBackend):
    """Config: api_key, model, base_url, timeout_s, retries, temperature, max_tokens, thinking_budget."""

    info = BackendInfo(
        name="gemini",
        kind=BackendKind.PERSONA,
        description="Google Gemini via google-genai, streamed; needs an API key and internet; guarded.",
        streaming=True,
        device="any",
        realtime=True,
        requires=("google.genai",),
        install="pip install google-genai==3.3.0",
        config=GeminiConfig,
        secrets={"api_key": "MEMORIA_GEMINI_API_KEY"},
        docs="plugins/gemini/README.md",
    )
    options: GeminiConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: Any = None

    @classmethod
    def status(cls, weights_dir: Path, config: Mapping[str, Any] | GeminiConfig | None = None) -> BackendStatus:
        status = super().status(weights_dir, config)
        if status.ready and not options_for(cls.info, config).api_key:
            return BackendStatus(Readiness.NEEDS_CONFIG, detail="no Gemini API key", fix=KEY_HINT)
        return status

    async def load(self) -> None:
        if self._client is not None:
            return
        key = self.options.api_key
        if not key:
            raise ConfigError("the gemini persona needs an API key", hint=KEY_HINT)
        from google import genai
        from google.genai import types

        options: dict[str, Any] = {"timeout": int(self.options.timeout_s * 1000)}
        if self.options.base_url:
            options["base_url"] = self.options.base_url
        self._client = genai.Client(api_key=key, http_options=types.HttpOptions(**options))
        await self.load_retriever()

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aio.aclose()
            client.close()
        await super().aclose()

    def _request(self, prompt: ChatPrompt) -> tuple[list[Any], Any]:
        from google.genai import types

        contents = [
            types.Content(role="user" if role == "user" else "model", parts=[types.Part(text=text)])
            for role, text in prompt.messages
        ]
        config = types.GenerateContentConfig(
            system_instruction=prompt.system,
            temperature=self.temperature,
            max_output_tokens=self.max_tokens,
            thinking_config=types.ThinkingConfig(thinking_budget=self.options.thinking_budget),
        )
        return contents, config

    async def stream_text(self, prompt: ChatPrompt) -> AsyncIterator[str]:
        import httpx
        from google.genai import errors

        await self.load()
        contents, config = self._request(prompt)
        model, retries = self.options.model, self.options.retries
        for attempt in range(retries + 1):
            started = False
            try:
                stream = await self._client.aio.models.generate_content_stream(
                    model=model, contents=contents, config=config
                )
                async for chunk in stream:
                    text = chunk.text or ""
                    if text:
                        started = True
                        yield text
                return
            except errors.APIError as exc:
                if exc.code in RETRY_CODES and not started and attempt < retries:
                    log.info("gemini: HTTP %s, retrying", exc.code)
                    await asyncio.sleep(0.25 * 2**attempt)
                    continue
                hint = (
                    KEY_HINT
                    if exc.code in (400, 401, 403)
                    else "see https://ai.google.dev/gemini-api/docs/troubleshooting"
                )
                raise BackendFailure(
                    f"gemini: {exc.code} {exc.status or ''} {exc.message or ''}".strip(), hint=hint
                ) from exc
            except (OSError, httpx.TransportError) as exc:  # google-genai talks over httpx
                if started or attempt >= retries:
                    raise BackendFailure(
                        f"gemini: cannot reach the API: {exc}", hint="check the internet connection or base_url"
                    ) from exc
                await asyncio.sleep(0.25 * 2**attempt)
