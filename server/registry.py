"""Finds plugins, collects their backend classes, and builds the backends a call uses.

Plugins come from the modules listed in `plugin_registry.toml` and from installed packages that
declare the `memoria.plugins` entry point. Every problem that can be found before a call starts
(a missing module, two backends with one name, a default whose weights are absent) is raised at
start-up as a ConfigError that says how to fix it.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import pluggy

from server import hookspecs
from server.backends import BASE_CLASS, Backend, BackendKind, BackendStatus, Readiness
from server.errors import ConfigError, DependencyMissing, PluginError, WeightsMissing

ENTRY_POINT_GROUP = "memoria.plugins"
HOOK_FOR_KIND = {kind: f"register_{kind.value}_backends" for kind in BackendKind}


class RegistryFile(msgspec.Struct, forbid_unknown_fields=True):
    """The parsed `plugin_registry.toml`."""

    plugins: dict[str, Any] = msgspec.field(default_factory=dict)
    defaults: dict[str, str] = msgspec.field(default_factory=dict)
    config: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)

    @property
    def modules(self) -> list[str]:
        return list(self.plugins.get("modules", []))

    @property
    def entry_points(self) -> bool:
        return bool(self.plugins.get("entry_points", True))


class Entry(msgspec.Struct, frozen=True):
    """One registered backend class and where it came from."""

    cls: type[Backend]
    source: str  # the plugin module or distribution that registered it

    @property
    def name(self) -> str:
        return self.cls.info.name

    @property
    def kind(self) -> BackendKind:
        return self.cls.info.kind


class Registry:
    """All known backends, by kind and name."""

    def __init__(self, file: RegistryFile, *, weights_dir: Path, base_dir: Path | None = None) -> None:
        self.file = file
        self.weights_dir = weights_dir
        self.base_dir = base_dir
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.entries: dict[BackendKind, dict[str, Entry]] = {kind: {} for kind in BackendKind}

    # -- loading -------------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: Path, *, weights_dir: Path, entry_points: bool | None = None) -> Registry:
        """Read the TOML and load every plugin it names (and, unless disabled, entry points)."""
        if not path.is_file():
            raise ConfigError(
                f"plugin registry {path} not found",
                hint="run memoria from the project folder or set MEMORIA_REGISTRY_FILE",
            )
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            file = msgspec.convert(raw, RegistryFile)
        except (tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
            raise ConfigError(f"{path} is invalid: {exc}", hint="see the comments in plugin_registry.toml") from exc
        registry = cls(file, weights_dir=weights_dir, base_dir=path.parent)
        registry.load(entry_points=file.entry_points if entry_points is None else entry_points)
        return registry

    def load(self, *, entry_points: bool = True) -> None:
        for module_name in self.file.modules:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                raise PluginError(
                    f"plugin module {module_name!r} listed in plugin_registry.toml cannot be imported: {exc}",
                    hint="install the package that provides it or remove it from [plugins] modules",
                ) from exc
            self.pm.register(module, name=module_name)
        if entry_points:
            self.pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"a plugin implements a hook that does not exist: {exc}",
                hint="see server/hookspecs.py for the hook names",
            ) from exc
        self._collect()

    def register_module(self, module: object, name: str) -> None:
        """Add a plugin object after start-up (used by tests and embedding code)."""
        self.pm.register(module, name=name)
        self.pm.check_pending()
        self._collect()

    def _collect(self) -> None:
        self.entries = {kind: {} for kind in BackendKind}
        for kind, hook_name in HOOK_FOR_KIND.items():
            hook = getattr(self.pm.hook, hook_name)
            for impl in hook.get_hookimpls():
                source = self._source_of(impl.plugin)
                for cls in impl.function() or ():
                    self._add(kind, cls, source)

    def _source_of(self, plugin: object) -> str:
        for plug, dist in self.pm.list_plugin_distinfo():
            if plug is plugin:
                return f"{dist.project_name} (entry point)"
        return self.pm.get_name(plugin) or repr(plugin)

    def _add(self, kind: BackendKind, cls: Any, source: str) -> None:
        base = BASE_CLASS[kind]
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginError(
                f"{source} registered {cls!r} as a {kind} backend, but it is not a {base.__name__} subclass"
            )
        info = getattr(cls, "info", None)
        if info is None or info.kind != kind:
            raise PluginError(f"{source}: {cls.__name__}.info must be a BackendInfo with kind={kind.value!r}")
        clash = self.entries[kind].get(info.name)
        if clash is not None and clash.cls is not cls:
            raise PluginError(
                f"two {kind} backends are named {info.name!r}: {clash.cls.__module__}.{clash.cls.__name__} "
                f"from {clash.source} and {cls.__module__}.{cls.__name__} from {source}",
                hint="uninstall one of the plugins or remove it from plugin_registry.toml",
            )
        self.entries[kind][info.name] = Entry(cls, source)

    # -- queries -------------------------------------------------------------------------------

    def names(self, kind: BackendKind) -> list[str]:
        return sorted(self.entries[kind])

    def entry(self, kind: BackendKind, name: str) -> Entry:
        try:
            return self.entries[kind][name]
        except KeyError:
            known = ", ".join(self.names(kind)) or "none"
            raise ConfigError(
                f"no {kind} backend named {name!r} (known: {known})", hint="see `memoria plugins`"
            ) from None

    def default_name(self, kind: BackendKind) -> str:
        name = self.file.defaults.get(kind.value)
        if not name:
            raise ConfigError(
                f"plugin_registry.toml sets no default {kind} backend",
                hint=f'add {kind.value} = "NAME" under [defaults]',
            )
        return name

    def config_for(self, name: str) -> dict[str, Any]:
        return dict(self.file.config.get(name, {}))

    def status(self, kind: BackendKind, name: str) -> BackendStatus:
        entry = self.entry(kind, name)
        return entry.cls.status(self.weights_dir, self.config_for(name))

    def check_defaults(
        self, overrides: Mapping[str, str] | None = None, kinds: tuple[BackendKind, ...] = tuple(BackendKind)
    ) -> None:
        """Fail at start-up if a selected backend is unknown or cannot load."""
        for kind in kinds:
            name = (overrides or {}).get(kind.value) or self.default_name(kind)
            status = self.status(kind, name)
            if status.state is Readiness.MISSING_WEIGHTS:
                raise WeightsMissing(f"default {kind} backend {name!r} cannot start: {status.detail}", hint=status.fix)
            if status.state is Readiness.MISSING_DEPENDENCY:
                raise DependencyMissing(
                    f"default {kind} backend {name!r} cannot start: {status.detail}", hint=status.fix
                )
            if status.state is Readiness.NEEDS_CONFIG:
                raise ConfigError(
                    f"default {kind} backend {name!r} is not configured: {status.detail}", hint=status.fix
                )

    def create(self, kind: BackendKind, name: str | None = None) -> Backend:
        """A new, not yet loaded backend of `kind` (the default unless `name` is given)."""
        name = name or self.default_name(kind)
        entry = self.entry(kind, name)
        return entry.cls(self.config_for(name), weights_dir=self.weights_dir)

    def describe(self) -> list[dict[str, Any]]:
        """One record per backend, for `memoria plugins` and the API."""
        rows = []
        for kind in BackendKind:
            default = self.file.defaults.get(kind.value)
            for name in self.names(kind):
                entry = self.entries[kind][name]
                status = self.status(kind, name)
                info = entry.cls.info
                rows.append(
                    {
                        "kind": kind.value,
                        "name": name,
                        "default": name == default,
                        "source": entry.source,
                        "status": status.state.value,
                        "detail": status.detail,
                        "fix": status.fix,
                        "device": info.device,
                        "streaming": info.streaming,
                        "realtime": info.realtime,
                        "description": info.description,
                    }
                )
        return rows
