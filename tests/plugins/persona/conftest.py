"""Loopback stand-ins for the Gemini API and an OpenAI-compatible server, with knobs.

Real HTTP on 127.0.0.1 (the SDK and httpx do everything they do against the real services);
what the server answers is set per test: the reply chunks, failures before the answer, delays.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class StandIn:
    """What the fake server will do and what it saw."""

    replies: list[list[str]] = field(default_factory=lambda: [["Hello there. ", "How are you?"]])
    fail_status: list[int] = field(default_factory=list)  # statuses for the first requests, in order
    chunk_delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def next_reply(self) -> list[str]:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def _handler(state: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            if state.fail_status:
                status = state.fail_status.pop(0)
                payload = json.dumps(
                    {"error": {"code": status, "message": "stand-in failure", "status": "UNAVAILABLE"}}
                )
                self._send(status, "application/json", payload.encode())
                return
            if re.search(r"/models/[^/:]+:streamGenerateContent", self.path):
                events = [
                    {"candidates": [{"content": {"role": "model", "parts": [{"text": c}]}}]} for c in state.next_reply()
                ]
                self._stream([json.dumps(e) for e in events])
            elif self.path.endswith("/chat/completions"):
                events = [
                    {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": c}}]}
                    for c in state.next_reply()
                ]
                self._stream([json.dumps(e) for e in events] + ["[DONE]"])
            else:
                self._send(404, "application/json", b'{"error": "no such route"}')

        def _send(self, status: int, ctype: str, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self, datas: list[str]) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("connection", "close")
            self.end_headers()
            for data in datas:
                if state.chunk_delay_s:
                    time.sleep(state.chunk_delay_s)
                self.wfile.write(f"data: {data}\r\n\r\n".encode())
                self.wfile.flush()
            self.close_connection = True

    return Handler


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    """A running loopback server; set its knobs before the backend calls it."""
    state = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
