"""What every backend shares: its declared metadata, its settings, its lifecycle, its readiness."""

from __future__ import annotations

import enum
import hashlib
import importlib.util
import json
from abc import ABC
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Self

import msgspec

from server.backends.config import options_for


class BackendKind(enum.StrEnum):
    ASR = "asr"
    PERSONA = "persona"
    VOICE = "voice"
    ANIMATOR = "animator"


class WeightSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A model file a backend reads from the weights directory: the one place its checksum is written."""

    path: str  # relative to the weights directory
    model: str = ""  # the model it belongs to, e.g. "whisper-base" (default: the file's folder)
    sha256: str | None = None
    size: int | None = None
    licence: str = "unknown"
    source: str = ""  # where a self-hoster gets it (URL or pip package)
    fetch: str = ""  # the command that puts it in place, e.g. "memoria weights import FILE"
    from_packages: tuple[str, ...] = ()  # "module:relative/path" parts a pip package ships, joined in order
    check: str = ""  # "module:function(path)" that checks the file's structure (raises ValueError)

    @property
    def model_name(self) -> str:
        return self.model or Path(self.path).parent.as_posix() or self.path


class BackendInfo(msgspec.Struct, frozen=True):
    """A backend's capabilities and settings, declared as data on the class."""

    name: str
    kind: BackendKind
    description: str = ""
    streaming: bool = True
    device: str = "cpu"  # "cpu", "cuda" or "any"
    realtime: bool = True  # fast enough for a live call on the device it names
    weights: tuple[WeightSpec, ...] = ()
    requires: tuple[str, ...] = ()  # importable module names
    install: str = ""  # what to run when `requires` are missing, e.g. "pip install 'memoria[speech]'"
    config: type[msgspec.Struct] | None = None  # the schema of its [config.NAME] table; None: no settings
    secrets: dict[str, str] = msgspec.field(default_factory=dict)  # config field -> environment variable
    docs: str = ""  # where its settings are explained, e.g. "plugins/piper/README.md"


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
    blocking work off the event loop; `aclose()` may be called any number of times. Settings arrive
    validated against `info.config` as `self.options` (and as a plain dict in `self.config`).
    """

    info: ClassVar[BackendInfo]

    def __init__(
        self, config: Mapping[str, Any] | msgspec.Struct | None = None, *, weights_dir: Path | None = None
    ) -> None:
        self.options: Any = options_for(self.info, config)
        self.config: dict[str, Any] = (
            msgspec.to_builtins(self.options) if isinstance(self.options, msgspec.Struct) else dict(self.options)
        )
        self.weights_dir = Path(weights_dir) if weights_dir is not None else Path("weights")
        self.closed = False

    @classmethod
    def needed_weights(cls, options: Any) -> tuple[WeightSpec, ...]:
        """The files this configuration reads; all declared ones unless a backend narrows it."""
        return cls.info.weights

    @classmethod
    def status(cls, weights_dir: Path, config: Mapping[str, Any] | msgspec.Struct | None = None) -> BackendStatus:
        """Readiness from the declared requirements and the files this configuration needs."""
        missing = [m for m in cls.info.requires if not importable(m)]
        if missing:
            return BackendStatus(
                Readiness.MISSING_DEPENDENCY,
                detail="not installed: " + ", ".join(missing),
                fix=cls.info.install or f"pip install {' '.join(missing)}",
            )
        from server.errors import ConfigError

        try:
            options = options_for(cls.info, config)
        except ConfigError as exc:
            return BackendStatus(Readiness.NEEDS_CONFIG, detail=exc.message, fix=exc.hint or "")
        absent = [w for w in cls.needed_weights(options) if not _present(weights_dir, w)]
        if absent:
            fetch = "; ".join(dict.fromkeys(w.fetch for w in absent if w.fetch))
            published = [w.source for w in absent if w.source.startswith("http")]
            if fetch and published:
                fetch += f" (published at {', '.join(dict.fromkeys(published))})"
            return BackendStatus(
                Readiness.MISSING_WEIGHTS,
                detail="not found: " + ", ".join(str(weights_dir / w.path) for w in absent),
                fix=fetch or f"put the files in {weights_dir} (see `memoria weights list`)",
            )
        return BackendStatus(Readiness.READY)

    def render_variant(self) -> str:
        """What of this backend's settings changes what it renders, as a short key for the render
        cache; a backend with settings that do not (test knobs, thread counts) leaves them out here."""
        text = json.dumps(self.config, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

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


def _present(weights_dir: Path, spec: WeightSpec) -> bool:
    """In the weights folder, or shipped by installed packages (read in place or assembled on load)."""
    return (weights_dir / spec.path).is_file() or packages_provide(spec)


def package_part(spec: str) -> Path | None:
    """The file a "module:relative/path" spec names, or None when the package is not installed."""
    module, _, rel = spec.partition(":")
    try:
        path = Path(str(resources.files(module) / rel))
    except (ModuleNotFoundError, TypeError):
        return None
    return path if path.is_file() else None


def packages_provide(file: WeightSpec) -> bool:
    return bool(file.from_packages) and all(package_part(p) is not None for p in file.from_packages)


def importable(module: str) -> bool:
    """Whether `module` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
