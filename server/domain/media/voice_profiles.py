"""The JSON kept in `avatars.voice_profile`: what each voice backend learned from the samples,
keyed by backend name, plus a record of the last learning attempt under `_likeness`.

    {"piper": {...piper's mapping...},
     "_likeness": {"backend": "piper", "state": "ready", "samples": [3, 5], "error": null, "at": "..."}}

Only the backend that learned last keeps its mapping: when the samples change, what another
backend learned from the old samples is stale, and a mapping is only ever handed back to the
backend named by its key, so one backend's data never reaches another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

NO_VOICE_BACKEND = "no voice backend is configured: set voice under [defaults] in plugin_registry.toml"
RECORD = "_likeness"  # keys starting with "_" are ours, never a backend's
LikenessState = Literal["none", "learning", "ready", "failed", "outdated"]


def learned_for(profile: Mapping[str, Any] | None, backend: str) -> dict[str, Any]:
    """What `backend` learned (empty if it learned nothing, or the name is one of our own keys)."""
    if not profile or backend.startswith("_"):
        return {}
    value = profile.get(backend)
    return dict(value) if isinstance(value, Mapping) else {}


def learned_backends(profile: Mapping[str, Any] | None) -> list[str]:
    """The backends that have a mapping stored."""
    return [k for k, v in (profile or {}).items() if not k.startswith("_") and isinstance(v, Mapping) and v]


def with_learned(backend: str, learned: Mapping[str, Any], sample_ids: Sequence[int]) -> dict[str, Any]:
    """The new profile after `backend` learned `learned` from these samples (others' data dropped)."""
    profile: dict[str, Any] = {RECORD: _record(backend, "ready", sample_ids, None)}
    if learned:
        profile[backend] = dict(learned)
    return profile


def with_failure(backend: str, error: str, sample_ids: Sequence[int]) -> dict[str, Any]:
    """The new profile after learning failed: nothing learned is kept (it was from other samples)."""
    return {RECORD: _record(backend, "failed", sample_ids, error)}


def state_of(
    profile: Mapping[str, Any] | None, backend: str, sample_ids: Sequence[int], *, pending: bool
) -> tuple[LikenessState, str | None, datetime | None]:
    """(state, error, when) of the likeness for `backend` and the current samples."""
    if not sample_ids:
        return "none", None, None
    if pending:
        return "learning", None, None
    record = (profile or {}).get(RECORD)
    if not isinstance(record, Mapping) or record.get("backend") != backend:
        return "outdated", None, None
    if sorted(record.get("samples") or []) != sorted(sample_ids):
        return "outdated", None, None
    state: LikenessState = "failed" if record.get("state") == "failed" else "ready"
    return state, record.get("error"), _parse_time(record.get("at"))


def _record(backend: str, state: str, sample_ids: Sequence[int], error: str | None) -> dict[str, Any]:
    return {
        "backend": backend,
        "state": state,
        "samples": sorted(int(i) for i in sample_ids),
        "error": error,
        "at": datetime.now(UTC).isoformat(),
    }


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def usable_learned(profile: Mapping[str, Any] | None, backend: str, sample_ids: Sequence[int]) -> dict[str, Any]:
    """What `backend` learned, if it learned only from samples that are still there.

    While a new sample is being learned the previous likeness keeps serving; once a sample it
    was learned from is deleted, it is no longer used.
    """
    learned = learned_for(profile, backend)
    record = (profile or {}).get(RECORD)
    if not learned or not isinstance(record, Mapping) or record.get("backend") != backend:
        return {}
    if not set(record.get("samples") or []) <= set(sample_ids):
        return {}
    return learned
