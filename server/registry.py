"""Finds plugins, collects their backend classes and settings, and answers which backend to use.

Plugins come from the modules listed in `plugin_registry.toml` and from installed packages that
declare the `memoria.plugins` entry point. Every problem that can be found before a call starts
(a missing module, two backends with one name, a setting of the wrong type, a default whose
weights are absent) is raised at start-up as a ConfigError that says how to fix it. A plugin whose
classes need a package that is not installed does not stop the others: its backend is listed with
the status "missing dependency" and the install command.
"""

from __future__ import annotations

import importlib
import logging
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec
import pluggy

from server import hookspecs
from server.backends import BASE_CLASS, Backend, BackendKind, BackendStatus, Readiness, WeightSpec
from server.backends.config import options_for
from server.errors import ConfigError, DependencyMissing, PluginError, WeightsMissing

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "memoria.plugins"
HOOK_FOR_KIND = {kind: f"register_{kind.value}_backends" for kind in BackendKind}
FAILED_STATE = {
    Readiness.MISSING_WEIGHTS: WeightsMissing,
    Readiness.MISSING_DEPENDENCY: DependencyMissing,
    Readiness.NEEDS_CONFIG: ConfigError,
}


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
    """One registered backend: its class and validated settings, or why its class could not load."""

    name: str
    kind: BackendKind
    source: str  # the plugin module or distribution that registered it
    cls: type[Backend] | None = None
    options: Any = None
    unavailable: BackendStatus | None = None  # set when importing the class failed


class Registry:
    """All known backends, by kind and name, and the one answer to which backend a call uses."""

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

    def configure(self, name: str, **settings: Any) -> None:
        """Change settings of backend `name` (the CLI's ad hoc calls); validated like the file's."""
        self.file.config.setdefault(name, {}).update(settings)
        self._collect()

    def _collect(self) -> None:
        self.entries = {kind: {} for kind in BackendKind}
        for kind, hook_name in HOOK_FOR_KIND.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                source = self._source_of(impl.plugin)
                try:
                    classes = impl.function() or ()
                except ModuleNotFoundError as exc:
                    self._add_unavailable(kind, impl.plugin, source, exc)
                    continue
                for cls in classes:
                    self._add(kind, cls, source)
        known = {name for entries in self.entries.values() for name in entries}
        for name in self.file.config:
            if name not in known:
                log.warning("plugin_registry.toml has [config.%s] but no backend of that name is installed", name)

    def _source_of(self, plugin: object) -> str:
        for plug, dist in self.pm.list_plugin_distinfo():
            if plug is plugin:
                return f"{dist.project_name} (entry point)"
        return self.pm.get_name(plugin) or repr(plugin)

    def _add_unavailable(self, kind: BackendKind, plugin: object, source: str, exc: ModuleNotFoundError) -> None:
        """A hook whose classes import a package that is missing: listed, with what to install."""
        name = str(getattr(plugin, "BACKEND_NAME", "") or source.split()[0].rsplit(".", 1)[-1])
        fix = str(getattr(plugin, "INSTALL", "") or f"pip install {(exc.name or '').split('.')[0]}")
        status = BackendStatus(Readiness.MISSING_DEPENDENCY, detail=f"not installed: {exc.name}", fix=fix)
        log.info("%s backend %r from %s is unavailable: %s", kind, name, source, exc)
        self.entries[kind].setdefault(name, Entry(name, kind, source, unavailable=status))

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
            other = f"{clash.cls.__module__}.{clash.cls.__name__}" if clash.cls else "an unavailable backend"
            raise PluginError(
                f"two {kind} backends are named {info.name!r}: {other} from {clash.source} and "
                f"{cls.__module__}.{cls.__name__} from {source}",
                hint="uninstall one of the plugins or remove it from plugin_registry.toml",
            )
        options = options_for(info, self.file.config.get(info.name))
        self.entries[kind][info.name] = Entry(info.name, kind, source, cls=cls, options=options)

    # -- which backend ---------------------------------------------------------------------------

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

    def resolve(self, kind: BackendKind, overrides: Mapping[str, Any] | None = None) -> str:
        """The backend of `kind` to use: the avatar's (or command's) choice in `overrides`, else the default."""
        chosen = (overrides or {}).get(kind.value)
        return str(chosen) if chosen else self.default_name(kind)

    def live_fallback(self, animator: str) -> str | None:
        """The animator a call shows live when `animator` cannot keep up here: the default one, or
        warp if `animator` is the default; None when there is no other ready animator."""
        for name in (self.file.defaults.get(BackendKind.ANIMATOR.value), "warp"):
            if name and name != animator and name in self.entries[BackendKind.ANIMATOR]:
                if self.status(BackendKind.ANIMATOR, name).ready:
                    return name
        return None

    def resolve_all(self, overrides: Mapping[str, Any] | None = None, *, strict: bool = True) -> dict[BackendKind, str]:
        """`resolve` for every kind; with `strict=False` a kind with no choice and no default is left out."""
        out: dict[BackendKind, str] = {}
        for kind in BackendKind:
            try:
                out[kind] = self.resolve(kind, overrides)
            except ConfigError:
                if strict:
                    raise
        return out

    def config_for(self, name: str) -> dict[str, Any]:
        return dict(self.file.config.get(name, {}))

    def status(self, kind: BackendKind, name: str) -> BackendStatus:
        entry = self.entry(kind, name)
        if entry.cls is None:
            return entry.unavailable or BackendStatus(Readiness.MISSING_DEPENDENCY)
        return entry.cls.status(self.weights_dir, entry.options)

    def check_defaults(
        self, overrides: Mapping[str, str] | None = None, kinds: tuple[BackendKind, ...] = tuple(BackendKind)
    ) -> None:
        """Fail at start-up if a selected backend is unknown or cannot load."""
        for kind in kinds:
            name = self.resolve(kind, overrides)
            self.ensure_ready(kind, name, what=f"default {kind} backend")

    def ensure_ready(self, kind: BackendKind, name: str, *, what: str | None = None) -> None:
        """Raise the error of the backend's status (with its fix) unless it is ready."""
        status = self.status(kind, name)
        if not status.ready:
            verb = "is not configured" if status.state is Readiness.NEEDS_CONFIG else "cannot start"
            raise FAILED_STATE[status.state](f"{what or kind} {name!r} {verb}: {status.detail}", hint=status.fix)

    def create(self, kind: BackendKind, name: str | None = None) -> Backend:
        """A new, not yet loaded backend of `kind` (the default unless `name` is given)."""
        entry = self.entry(kind, name or self.default_name(kind))
        if entry.cls is None:
            self.ensure_ready(kind, entry.name)
            raise DependencyMissing(f"{kind} backend {entry.name!r} cannot be created")
        return entry.cls(entry.options, weights_dir=self.weights_dir)

    # -- what it knows ---------------------------------------------------------------------------

    def all_entries(self) -> Iterator[Entry]:
        for kind in BackendKind:
            for name in self.names(kind):
                yield self.entries[kind][name]

    def weight_files(self) -> list[tuple[WeightSpec, tuple[str, ...]]]:
        """Every model file a registered backend declares, once per path, with the backends using it."""
        users: dict[str, list[str]] = {}
        specs: dict[str, WeightSpec] = {}
        for entry in self.all_entries():
            for spec in entry.cls.info.weights if entry.cls else ():
                specs.setdefault(spec.path, spec)
                users.setdefault(spec.path, []).append(entry.name)
        return [(spec, tuple(dict.fromkeys(users[path]))) for path, spec in specs.items()]

    def describe(self) -> list[dict[str, Any]]:
        """One record per backend, for `memoria plugins` and the API."""
        rows = []
        for entry in self.all_entries():
            status = self.status(entry.kind, entry.name)
            info = entry.cls.info if entry.cls else None
            rows.append(
                {
                    "kind": entry.kind.value,
                    "name": entry.name,
                    "default": entry.name == self.file.defaults.get(entry.kind.value),
                    "source": entry.source,
                    "status": status.state.value,
                    "detail": status.detail,
                    "fix": status.fix,
                    "device": info.device if info else "",
                    "streaming": info.streaming if info else False,
                    "realtime": info.realtime if info else False,
                    "description": info.description if info else "",
                    "weights": [_weight_row(w) for w in (info.weights if info else ())],
                }
            )
        return rows


def _weight_row(spec: WeightSpec) -> dict[str, Any]:
    return {"path": spec.path, "source": spec.source, "licence": spec.licence, "fetch": spec.fetch}
