"""Schemathesis against the served `/schema`, as a logged-in user, on a real server (uvicorn subprocess,
SQLite, basic backends): no operation may answer 500, and every response (status, content type,
headers, body) must be what the schema says. Examples per operation are bounded to keep CI short."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402  (after the importorskip)
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ROOT = Path(__file__).resolve().parents[3]
EMAIL, PASSWORD = "fuzz@example.org", "a long fuzzing phrase"
LOGS_OUT = {("POST", "/auth/logout"), ("POST", "/auth/logout-everywhere"), ("DELETE", "/auth/session")}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

pytestmark = pytest.mark.slow
EXAMPLES = 15  # per operation and mode: about 1,000 requests in all


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(f"{url}/schema/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not start (exit status {process.poll()})")


class Server:
    def __init__(self, url: str) -> None:
        self.url = url
        self.avatar_id = 0

    def token(self) -> str:
        response = httpx.post(f"{self.url}/auth/login", json={"email": EMAIL, "password": PASSWORD})
        response.raise_for_status()
        return str(response.json()["token"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from server.db.engine import upgrade

    workdir = tmp_path_factory.mktemp("fuzz")
    db = workdir / "memoria.db"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{db}"))
    registry = workdir / "plugin_registry.toml"
    registry.write_text(
        '[plugins]\nmodules = ["plugins.basic"]\nentry_points = false\n'
        '[defaults]\nasr = "basic-asr"\npersona = "basic-persona"\nvoice = "basic-voice"\nanimator = "basic-animator"\n'
    )
    port = free_port()
    env = {
        **os.environ,
        "MEMORIA_DATA_DIR": str(workdir / "data"),
        "MEMORIA_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "MEMORIA_REGISTRY_FILE": str(registry),
        "MEMORIA_LOOPBACK_ONLY": "true",
        "MEMORIA_CONFIG": str(workdir / "none.toml"),
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "server.app:create_app", "--port", str(port)]
    with (workdir / "server.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            running = Server(f"http://127.0.0.1:{port}")
            wait_until_serving(running.url, process)
            httpx.post(f"{running.url}/auth/register", json={"email": EMAIL, "password": PASSWORD}).raise_for_status()
            created = httpx.post(
                f"{running.url}/avatars/",
                headers={"Authorization": f"Bearer {running.token()}"},
                json={
                    "name": "Margaret",
                    "relationship": "my grandmother",
                    "consent": True,
                    "consent_statement": "I confirm I have the right to use this person's likeness and voice.",
                },
            )
            created.raise_for_status()
            running.avatar_id = int(created.json()["id"])
            yield running
        finally:
            process.terminate()
            process.wait(10)
    errors = [line for line in (workdir / "server.log").read_text().splitlines() if "Traceback" in line]
    assert not errors, f"the server logged {len(errors)} tracebacks: see {workdir / 'server.log'}"


@pytest.fixture(scope="module")
def token(server: Server) -> str:
    return server.token()


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_every_operation_keeps_to_the_schema(server: Server, token: str, mode: str) -> None:
    """Valid and invalid inputs for every operation (hypothesis through schemathesis' strategies)."""
    schema = schemathesis.openapi.from_url(f"{server.url}/schema/openapi.json")
    document = httpx.get(f"{server.url}/schema/openapi.json").json()
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        spec = document["paths"][operation.path][operation.method.lower()]
        if mode == "negative" and not (spec.get("parameters") or spec.get("requestBody") or spec.get("security")):
            continue  # public and without inputs (GET /lan): there is nothing to send wrong

        @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case: Any) -> None:
            if "avatar_id" in (case.path_parameters or {}) and case.method != "DELETE":
                case.path_parameters["avatar_id"] = server.avatar_id  # reach past the 404 to the operation
            bearer = server.token() if (case.method, case.path) in LOGS_OUT else token
            case.call_and_validate(headers={"Authorization": f"Bearer {bearer}"}, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - all operations' failures together
            failures[f"{operation.method.upper()} {operation.path}"] = str(error)[:1500]
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())


def test_the_schema_documents_the_error_shape(server: Server) -> None:
    document = httpx.get(f"{server.url}/schema/openapi.json").json()
    login = document["paths"]["/auth/login"]["post"]["responses"]
    assert {"400", "408", "413", "415", "429", "503"} <= set(login)
    body = json.dumps(login["429"])
    assert "ErrorBody" in body
    avatar = document["paths"]["/avatars/{avatar_id}"]["patch"]["responses"]
    assert {"401", "403", "404", "409"} <= set(avatar)
