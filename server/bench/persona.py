"""`memoria bench persona CASES.json`: run dialogue cases through a persona backend and score them.

A case gives an avatar sheet (or the id of an earlier case to reuse its sheet), the user's turns,
words no reply may contain and words of which the last reply must contain one. Prints each reply
with pass/fail, then cases, passed, forbidden_hits, recall and first_sentence_ms_p50 (the time
from the user's final words to the first whole sentence, warm, median over turns and repeats).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import click
import msgspec

from server.backends import BackendKind, PersonaBackend, PersonaSheet, Role, Turn
from server.errors import ConfigError
from server.persona.text import phrase_re

FALLBACK_PLUGINS = ("plugins.grounded", "plugins.gemini", "plugins.openai_compatible")


class Case(msgspec.Struct, frozen=True):
    id: str
    avatar: PersonaSheet | str
    turns: tuple[str, ...]
    forbidden: tuple[str, ...] = ()
    expect_any: tuple[str, ...] = ()


class CaseFile(msgspec.Struct, frozen=True):
    cases: tuple[Case, ...]
    format: str = ""


def load_cases(path: Path) -> list[tuple[Case, PersonaSheet]]:
    """Cases with their sheets resolved (an `avatar` string names an earlier case)."""
    try:
        file = msgspec.json.decode(path.read_bytes(), type=CaseFile)
    except (OSError, msgspec.DecodeError) as exc:
        raise click.ClickException(f"cannot read cases from {path}: {exc}") from exc
    sheets: dict[str, PersonaSheet] = {}
    out = []
    for case in file.cases:
        if isinstance(case.avatar, str):
            if case.avatar not in sheets:
                raise click.ClickException(
                    f"case {case.id!r} reuses avatar {case.avatar!r}, which no earlier case defines"
                )
            sheet = sheets[case.avatar]
        else:
            sheet = case.avatar
        sheets[case.id] = sheet
        out.append((case, sheet))
    return out


def make_backend(name: str | None) -> PersonaBackend:
    """The named persona backend (or the registry's default), from plugin_registry.toml when it loads."""
    from server.registry import Registry, RegistryFile
    from server.settings import load_settings

    settings = load_settings()
    try:
        registry = Registry.from_file(settings.registry_file, weights_dir=settings.weights_dir)
    except ConfigError as exc:
        print(f"note: {exc}; using the persona plugins directly", file=sys.stderr)
        registry = Registry(RegistryFile(plugins={"modules": list(FALLBACK_PLUGINS)}), weights_dir=settings.weights_dir)
        registry.load(entry_points=False)
    if name is None:
        default = registry.file.defaults.get("persona")
        name = default if default in registry.names(BackendKind.PERSONA) else "grounded"
    if name not in registry.names(BackendKind.PERSONA):  # a bundled plugin not listed in the TOML yet
        try:
            registry.register_module(importlib.import_module(f"plugins.{name}"), name=f"plugins.{name}")
        except ModuleNotFoundError:
            pass  # registry.create below names the known backends
    backend = registry.create(BackendKind.PERSONA, name)
    assert isinstance(backend, PersonaBackend)
    return backend


async def run_case(backend: PersonaBackend, case: Case, sheet: PersonaSheet) -> tuple[list[str], list[float]]:
    """The replies to each turn and the ms to each reply's first sentence."""
    history: list[Turn] = []
    replies, firsts = [], []
    for text in case.turns:
        history.append(Turn(Role.USER, text))
        start = time.perf_counter()
        first: float | None = None
        reply = ""
        async for delta in backend.respond(tuple(history), persona=sheet):
            reply += delta.text
            if first is None and delta.text.strip():
                first = (time.perf_counter() - start) * 1000
        replies.append(reply.strip())
        firsts.append(first if first is not None else (time.perf_counter() - start) * 1000)
        history.append(Turn(Role.AVATAR, reply.strip()))
    return replies, firsts


def score(case: Case, replies: list[str]) -> dict[str, Any]:
    """Forbidden words found anywhere, whether the last reply met expect_any, and pass/fail."""
    pattern = phrase_re(case.forbidden)
    hits = sorted({m.group(0) for r in replies for m in pattern.finditer(r)}) if case.forbidden else []
    last = replies[-1] if replies else ""
    met = bool(phrase_re(case.expect_any).search(last)) if case.expect_any else None
    ok = bool(last) and not hits and met is not False
    return {"id": case.id, "replies": replies, "forbidden_hits": hits, "expect_met": met, "passed": ok}


async def bench(path: Path, backend_name: str | None, repeat: int) -> dict[str, Any]:
    cases = load_cases(path)
    backend = make_backend(backend_name)
    async with backend:
        if cases:  # warm up: the first reply pays for loading lexicons and indexing memories
            await run_case(backend, cases[0][0], cases[0][1])
        results, timings = [], []
        for case, sheet in cases:
            per_run = []
            for _ in range(max(repeat, 1)):
                replies, firsts = await run_case(backend, case, sheet)
                per_run.append(firsts)
            result = score(case, replies)
            result["first_sentence_ms"] = [
                round(statistics.median(r[i] for r in per_run), 2) for i in range(len(case.turns))
            ]
            timings.extend(result["first_sentence_ms"])
            results.append(result)
    with_expect = [r for r in results if r["expect_met"] is not None]
    return {
        "backend": backend.info.name,
        "cases": len(results),
        "passed": sum(r["passed"] for r in results),
        "forbidden_hits": sum(len(r["forbidden_hits"]) for r in results),
        "recall": round(sum(bool(r["expect_met"]) for r in with_expect) / len(with_expect), 3) if with_expect else None,
        "first_sentence_ms_p50": round(statistics.median(timings), 2) if timings else None,
        "first_sentence_ms_max": round(max(timings), 2) if timings else None,
        "results": results,
    }


@click.command("persona")
@click.argument("cases", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--backend", "backend_name", default=None, help="Persona backend name (default: the registry's default).")
@click.option("--repeat", default=3, show_default=True, help="Time each turn this many times and take the median.")
@click.option("--json", "as_json", is_flag=True, help="End with one JSON object of the figures.")
def command(cases: Path, backend_name: str | None, repeat: int, as_json: bool) -> None:
    """Run persona dialogue cases and score the replies."""
    report = asyncio.run(bench(cases, backend_name, repeat))
    for r in report["results"]:
        print(f"[{'PASS' if r['passed'] else 'FAIL'}] {r['id']}")
        for reply, ms in zip(r["replies"], r["first_sentence_ms"], strict=True):
            print(f"    ({ms:.1f} ms) {reply}")
        if r["forbidden_hits"]:
            print(f"    forbidden: {', '.join(r['forbidden_hits'])}")
        if r["expect_met"] is False:
            print("    the last reply has none of the expected words")
    print(
        f"backend {report['backend']}: {report['passed']}/{report['cases']} passed, "
        f"forbidden_hits {report['forbidden_hits']}, recall {report['recall']}, "
        f"first_sentence_ms_p50 {report['first_sentence_ms_p50']}"
    )
    if as_json:
        print(json.dumps(report))
