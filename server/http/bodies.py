"""JSON request bodies read strictly: `"consent": "true"` is not `true`, a rating of "5" is not 5,
and a body sent as text/plain is refused, before Litestar's lenient conversion sees it."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType

from server.backends.config import describe
from server.errors import BadInput, UnsupportedMedia


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """Before a handler that takes a JSON `data`: the body must be JSON of exactly its type."""
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None or getattr(field.kwarg_definition, "media_type", None) is not RequestEncodingType.JSON:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMedia("send the body as JSON", hint="Content-Type: application/json")
    body = await request.body()
    try:
        msgspec.json.decode(body, type=field.annotation, strict=True)
    except msgspec.ValidationError as exc:
        raise BadInput(
            f"invalid request: {describe(exc, 'unknown field')}", hint="see /schema for the expected fields"
        ) from exc
    except msgspec.DecodeError as exc:
        raise BadInput("the request body is not valid JSON", hint=str(exc)[:120]) from exc
    except RecursionError as exc:
        raise BadInput("the request body is nested too deeply") from exc
