"""What every backend shares: its declared metadata, its lifecycle, and its readiness check."""

from __future__ import annotations

import enum
import importlib.util
from abc import ABC
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import msgspec


class BackendKind(enum.StrEnum):
    ASR = "asr"
    PERSONA = "persona"
    VOICE = "voice"
    ANIMATOR = "animator"


class WeightSpec(msgspec.Struct, frozen=True):
    """A model file a backend reads from the weights directory."""

    path: str  # relative to the weights directory
    sha256: str | None = None
    size: int | None = None
    licence: str = "unknown"
    source: str = ""  # where a self-hoster gets it (URL or pip package)
    fetch: str = ""  # the command that puts it in place, e.g. "memoria weights import FILE"


class BackendInfo(msgspec.Struct, frozen=True):
    """A backend's capabilities, declared as data on the class."""

    name: str
    kind: BackendKind
    description: str = ""
    streaming: bool = True
    device: str = "cpu"  # "cpu", "cuda" or "any"
    realtime: bool = True  # fast enough for a live call on the device it names
    weights: tuple[WeightSpec, ...] = ()
    requires: tuple[str, ...] = ()  # importable module names
    install: str = ""  # what to run when `requires` are missing, e.g. "pip install 'memoria[speech]'"


class Readiness(enum.StrEnum):
    READY = "ready"
    MISSING_WEIGHTS = "missing weights"
    MISSING_DEPENDENCY = "missing dependency"
    NEEDS_CONFIG = "needs configuration"  # e.g. an API key or a server address


class BackendStatus(msgspec.Struct, frozen=True):
    """Whether a backend can be loaded now, and if not, what fixes it."""

    state: Readiness
    detail: str = ""
    fix: str = ""

    @property
    def ready(self) -> bool:
        return self.state is Readiness.READY


class Backend(ABC):
    """Base of all backends: built cheaply, loaded explicitly, closed idempotently.

    `__init__` must not touch models; `load()` reads weights from local files only and runs
    blocking work off the event loop; `aclose()` may be called any number of times.
    """

    info: ClassVar[BackendInfo]

    def __init__(self, config: Mapping[str, Any] | None = None, *, weights_dir: Path | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self.weights_dir = Path(weights_dir) if weights_dir is not None else Path("weights")
        self.closed = False

    @classmethod
    def status(cls, weights_dir: Path, config: Mapping[str, Any] | None = None) -> BackendStatus:
        """Readiness from declared requirements; override when weights come from elsewhere."""
        missing = [m for m in cls.info.requires if not _importable(m)]
        if missing:
            return BackendStatus(
                Readiness.MISSING_DEPENDENCY,
                detail="not installed: " + ", ".join(missing),
                fix=cls.info.install or f"pip install {' '.join(missing)}",
            )
        absent = [w for w in cls.info.weights if not (weights_dir / w.path).is_file()]
        if absent:
            fetch = "; ".join(dict.fromkeys(w.fetch for w in absent if w.fetch))
            return BackendStatus(
                Readiness.MISSING_WEIGHTS,
                detail="not found: " + ", ".join(str(weights_dir / w.path) for w in absent),
                fix=fetch or f"put the files in {weights_dir} (see `memoria weights list`)",
            )
        return BackendStatus(Readiness.READY)

    async def load(self) -> None:
        """Load models; called once before the first use."""

    async def aclose(self) -> None:
        """Release resources; safe to call twice."""
        self.closed = True

    async def __aenter__(self) -> Self:
        await self.load()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
