"""The registry finds plugins, rejects clashes and bad entries, and reports readiness with a fix."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from server import hookspecs
from server.backends import BackendInfo, BackendKind, PersonaBackend, Readiness, WeightSpec
from server.errors import ConfigError, DependencyMissing, PluginError, WeightsMissing
from server.registry import Registry


def write_registry(tmp_path: Path, modules: list[str], defaults: dict[str, str] | None = None, extra: str = "") -> Path:
    lines = ["[plugins]", f"modules = {modules!r}", "entry_points = false", "[defaults]"]
    lines += [f'{k} = "{v}"' for k, v in (defaults or {}).items()]
    path = tmp_path / "plugin_registry.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path where tests write throwaway plugin modules."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in [m for m in sys.modules if m.startswith("tp_")]:
        del sys.modules[name]


def write_plugin(folder: Path, module: str, backend_name: str, *, weights: str = "", requires: str = "") -> None:
    (folder / f"{module}.py").write_text(
        textwrap.dedent(
            f"""
            from server.backends import BackendInfo, BackendKind, PersonaBackend, WeightSpec
            from server.hookspecs import hookimpl
            from server.media import TextDelta

            class Echo(PersonaBackend):
                info = BackendInfo(
                    name={backend_name!r}, kind=BackendKind.PERSONA,
                    weights=tuple(
                        WeightSpec(path=p, fetch="memoria weights import FILE") for p in {weights!r}.split()
                    ),
                    requires=tuple({requires!r}.split()), install="pip install 'memoria[echo]'",
                )
                async def respond(self, history, *, persona):
                    yield TextDelta(text="hello " + history[-1].text)

            @hookimpl
            def register_persona_backends():
                return [Echo]
            """
        )
    )


def test_loads_listed_modules_and_reports_ready(tmp_path: Path, plugin_dir: Path) -> None:
    write_plugin(plugin_dir, "tp_echo", "echo")
    registry = Registry.from_file(write_registry(tmp_path, ["tp_echo"], {"persona": "echo"}), weights_dir=tmp_path)
    assert registry.names(BackendKind.PERSONA) == ["echo"]
    assert registry.status(BackendKind.PERSONA, "echo").state is Readiness.READY
    row = next(r for r in registry.describe() if r["name"] == "echo")
    assert row == row | {"kind": "persona", "default": True, "source": "tp_echo", "status": "ready"}


def test_missing_module_names_the_module_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(PluginError) as err:
        Registry.from_file(write_registry(tmp_path, ["tp_not_there"]), weights_dir=tmp_path)
    assert "tp_not_there" in str(err.value) and "plugin_registry.toml" in str(err.value)


def test_two_backends_with_one_name_fail_at_start_up(tmp_path: Path, plugin_dir: Path) -> None:
    write_plugin(plugin_dir, "tp_one", "same")
    write_plugin(plugin_dir, "tp_two", "same")
    with pytest.raises(PluginError) as err:
        Registry.from_file(write_registry(tmp_path, ["tp_one", "tp_two"]), weights_dir=tmp_path)
    message = str(err.value)
    assert "'same'" in message and "tp_one" in message and "tp_two" in message


def test_default_with_missing_weights_fails_with_the_fetch_command(tmp_path: Path, plugin_dir: Path) -> None:
    write_plugin(plugin_dir, "tp_heavy", "heavy", weights="heavy/model.bin")
    registry = Registry.from_file(write_registry(tmp_path, ["tp_heavy"], {"persona": "heavy"}), weights_dir=tmp_path)
    status = registry.status(BackendKind.PERSONA, "heavy")
    assert status.state is Readiness.MISSING_WEIGHTS and "heavy/model.bin" in status.detail
    with pytest.raises(WeightsMissing) as err:
        registry.check_defaults(kinds=(BackendKind.PERSONA,))
    assert "memoria weights import" in str(err.value)
    # once the file is there the same backend is ready
    (tmp_path / "heavy").mkdir()
    (tmp_path / "heavy" / "model.bin").write_bytes(b"x")
    assert registry.status(BackendKind.PERSONA, "heavy").ready


def test_missing_dependency_says_what_to_install(tmp_path: Path, plugin_dir: Path) -> None:
    write_plugin(plugin_dir, "tp_dep", "needy", requires="surely_not_installed_pkg")
    registry = Registry.from_file(write_registry(tmp_path, ["tp_dep"], {"persona": "needy"}), weights_dir=tmp_path)
    status = registry.status(BackendKind.PERSONA, "needy")
    assert status.state is Readiness.MISSING_DEPENDENCY and status.fix == "pip install 'memoria[echo]'"
    with pytest.raises(DependencyMissing):
        registry.check_defaults(kinds=(BackendKind.PERSONA,))


def test_registering_a_non_backend_is_rejected(tmp_path: Path, plugin_dir: Path) -> None:
    (plugin_dir / "tp_bad.py").write_text(
        "from server.hookspecs import hookimpl\n@hookimpl\ndef register_voice_backends():\n    return [object]\n"
    )
    with pytest.raises(PluginError, match="not a VoiceBackend subclass"):
        Registry.from_file(write_registry(tmp_path, ["tp_bad"]), weights_dir=tmp_path)


def test_unknown_hook_is_an_error(tmp_path: Path, plugin_dir: Path) -> None:
    (plugin_dir / "tp_typo.py").write_text(
        "from server.hookspecs import hookimpl\n@hookimpl\ndef register_avatar_backends():\n    return []\n"
    )
    with pytest.raises(PluginError, match="hook that does not exist"):
        Registry.from_file(write_registry(tmp_path, ["tp_typo"]), weights_dir=tmp_path)


def test_third_party_plugin_found_through_entry_point(tmp_path: Path, plugin_dir: Path) -> None:
    """A pip-installed package with a `memoria.plugins` entry point needs no registry entry."""
    write_plugin(plugin_dir, "tp_thirdparty", "hobby-animator-persona")
    dist = plugin_dir / "tp_thirdparty-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tp-thirdparty\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[memoria.plugins]\nthirdparty = tp_thirdparty\n")
    path = write_registry(tmp_path, []).read_text().replace("entry_points = false", "entry_points = true")
    (tmp_path / "plugin_registry.toml").write_text(path)
    registry = Registry.from_file(tmp_path / "plugin_registry.toml", weights_dir=tmp_path)
    entry = registry.entry(BackendKind.PERSONA, "hobby-animator-persona")
    assert "tp-thirdparty" in entry.source


def test_unknown_backend_name_lists_the_known_ones(tmp_path: Path, plugin_dir: Path) -> None:
    write_plugin(plugin_dir, "tp_known", "known")
    registry = Registry.from_file(write_registry(tmp_path, ["tp_known"]), weights_dir=tmp_path)
    with pytest.raises(Exception, match="known: known"):
        registry.create(BackendKind.PERSONA, "nope")


def test_every_hookspec_is_documented() -> None:
    """Like datasette: a hook without a docstring or a section in docs/plugins.md fails here."""
    docs = (Path(__file__).parents[3] / "docs" / "plugins.md").read_text()
    specs = [name for name in dir(hookspecs) if name.startswith("register_")]
    assert specs, "no hookspecs found"
    for name in specs:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"
        assert f"`{name}" in docs, f"{name} is not documented in docs/plugins.md"


def test_backend_info_is_data() -> None:
    info = BackendInfo(name="x", kind=BackendKind.PERSONA, weights=(WeightSpec(path="a"),))
    assert info.weights[0].path == "a" and issubclass(PersonaBackend, object)


def test_a_plugin_whose_classes_need_a_missing_package_is_listed_with_the_install_command(
    tmp_path: Path, plugin_dir: Path
) -> None:
    write_plugin(plugin_dir, "tp_fine", "fine")
    (plugin_dir / "tp_needs_httpx2.py").write_text(
        textwrap.dedent(
            """
            from server.hookspecs import hookimpl

            INSTALL = "pip install 'memoria[remote]'"

            @hookimpl
            def register_persona_backends():
                import surely_not_installed_http_lib  # what a backend module would import at its top
                return []
            """
        )
    )
    registry = Registry.from_file(write_registry(tmp_path, ["tp_fine", "tp_needs_httpx2"]), weights_dir=tmp_path)
    assert registry.names(BackendKind.PERSONA) == ["fine", "tp_needs_httpx2"]  # the rest still loads
    status = registry.status(BackendKind.PERSONA, "tp_needs_httpx2")
    assert status.state is Readiness.MISSING_DEPENDENCY
    assert "surely_not_installed_http_lib" in status.detail and status.fix == "pip install 'memoria[remote]'"
    row = next(r for r in registry.describe() if r["name"] == "tp_needs_httpx2")
    assert row["status"] == "missing dependency"
    with pytest.raises(DependencyMissing, match="pip install 'memoria\\[remote\\]'"):
        registry.create(BackendKind.PERSONA, "tp_needs_httpx2")


def test_bad_settings_fail_at_start_up_naming_the_plugin_and_the_field(tmp_path: Path) -> None:
    path = write_registry(
        tmp_path, ["plugins.basic"], {"voice": "basic-voice"}, extra='[config.basic-voice]\nf0 = "high"\n'
    )
    with pytest.raises(ConfigError) as err:
        Registry.from_file(path, weights_dir=tmp_path)
    assert "[config.basic-voice] f0" in str(err.value) and "plugins/basic/README.md" in str(err.value)
    unknown = write_registry(tmp_path, ["plugins.basic"], extra="[config.basic-voice]\npitch = 120\n")
    with pytest.raises(ConfigError, match=r"\[config.basic-voice\] pitch: no such setting"):
        Registry.from_file(unknown, weights_dir=tmp_path)


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMORIA_GEMINI_API_KEY", "from-the-env")
    registry = Registry.from_file(write_registry(tmp_path, ["plugins.gemini"]), weights_dir=tmp_path)
    assert registry.create(BackendKind.PERSONA, "gemini").options.api_key == "from-the-env"
    monkeypatch.delenv("MEMORIA_GEMINI_API_KEY")
    registry = Registry.from_file(write_registry(tmp_path, ["plugins.gemini"]), weights_dir=tmp_path)
    assert registry.status(BackendKind.PERSONA, "gemini").state is Readiness.NEEDS_CONFIG


def test_resolve_is_the_one_answer_for_which_backend(tmp_path: Path, plugin_dir: Path) -> None:
    write_plugin(plugin_dir, "tp_a", "a")
    write_plugin(plugin_dir, "tp_b", "b")
    registry = Registry.from_file(write_registry(tmp_path, ["tp_a", "tp_b"], {"persona": "a"}), weights_dir=tmp_path)
    assert registry.resolve(BackendKind.PERSONA) == "a"
    assert registry.resolve(BackendKind.PERSONA, {"persona": "b"}) == "b"
    assert registry.resolve(BackendKind.PERSONA, {"persona": ""}) == "a"
    with pytest.raises(ConfigError, match="no default asr"):
        registry.resolve(BackendKind.ASR)
    assert BackendKind.ASR not in registry.resolve_all(strict=False)
