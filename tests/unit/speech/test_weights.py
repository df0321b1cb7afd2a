"""Model files as their backends declare them: assembly from packages, checksums, import, listing.

The files come from a third-party-style plugin written here, so these tests also show that a
plugin's weights appear in `memoria weights list | verify | import` like the built-in ones."""

from __future__ import annotations

import hashlib
import json
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from server import weights as w
from server.backends import WeightSpec
from server.cli.weights import command
from server.errors import BadInput, WeightsMissing
from server.registry import Registry

PART1 = b"first half of a model " * 1000
PART2 = b"second half" * 500
SMALL = b'{"tiny": "config"}'


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture()
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fake installed package that ships a model split in two parts, like the Whisper base packages."""
    root = tmp_path / "site"
    pkg = root / "fake_model_parts"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "model.bin.part1").write_bytes(PART1)
    (pkg / "data" / "model.bin.part2").write_bytes(PART2)
    monkeypatch.syspath_prepend(str(root))
    sys.modules.pop("fake_model_parts", None)
    return "fake_model_parts"


@pytest.fixture()
def plugin(tmp_path: Path, package: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plugin module declaring three files (packaged + checked, checked, unchecked) and its registry."""
    (tmp_path / "site" / "tp_weighty.py").write_text(
        textwrap.dedent(
            f'''
            from server.backends import BackendInfo, BackendKind, PersonaBackend, WeightSpec
            from server.hookspecs import hookimpl

            class Weighty(PersonaBackend):
                info = BackendInfo(
                    name="demo-backend", kind=BackendKind.PERSONA,
                    weights=(
                        WeightSpec(path="demo/model.bin", model="demo", sha256="{_sha(PART1 + PART2)}",
                                   size={len(PART1 + PART2)}, licence="MIT",
                                   from_packages=("{package}:data/model.bin.part1", "{package}:data/model.bin.part2")),
                        WeightSpec(path="demo/config.json", model="demo", sha256="{_sha(SMALL)}", size={len(SMALL)},
                                   fetch="memoria weights import config.json"),
                        WeightSpec(path="other/unchecked.bin", model="other", source="https://example.org/other",
                                   fetch="memoria weights import unchecked.bin"),
                        WeightSpec(path="other/structured.pt", model="other", sha256="{"0" * 64}",
                                   check="tp_weighty:check_file", fetch="memoria weights import structured.pt"),
                    ),
                )
                async def respond(self, history, *, persona):
                    yield None

            def check_file(path):
                if not path.read_bytes().startswith(b"STRUCT"):
                    raise ValueError("it has no STRUCT header")

            @hookimpl
            def register_persona_backends():
                return [Weighty]
            '''
        )
    )
    sys.modules.pop("tp_weighty", None)
    registry_file = tmp_path / "plugin_registry.toml"
    registry_file.write_text('[plugins]\nmodules = ["tp_weighty"]\nentry_points = false\n')
    monkeypatch.setenv("MEMORIA_REGISTRY_FILE", str(registry_file))
    return registry_file


@pytest.fixture()
def weights_dir(tmp_path: Path) -> Path:
    wd = tmp_path / "weights"
    wd.mkdir()
    return wd


def catalog(plugin: Path, weights_dir: Path) -> w.Catalog:
    return Registry.from_file(plugin, weights_dir=weights_dir).weight_files()


def spec(plugin: Path, weights_dir: Path, path: str) -> WeightSpec:
    return next(s for s, _ in catalog(plugin, weights_dir) if s.path == path)


def run(weights_dir: Path, *args: str) -> object:
    return CliRunner().invoke(command, ["--weights-dir", str(weights_dir), *args])


def test_assemble_joins_parts_and_checks_the_sum(plugin: Path, weights_dir: Path) -> None:
    model = spec(plugin, weights_dir, "demo/model.bin")
    assert w.check(model, weights_dir, verify=False).state is w.FileState.PACKAGED
    seen: list[int] = []
    target = w.assemble(model, weights_dir, progress=seen.append)
    assert target.read_bytes() == PART1 + PART2
    assert sum(seen) == len(PART1 + PART2)
    assert w.check(model, weights_dir).state is w.FileState.OK


def test_assemble_refuses_a_corrupt_part(plugin: Path, weights_dir: Path, package: str, tmp_path: Path) -> None:
    (tmp_path / "site" / package / "data" / "model.bin.part2").write_bytes(PART2[:-1] + b"X")
    model = spec(plugin, weights_dir, "demo/model.bin")
    with pytest.raises(WeightsMissing, match="sha256"):
        w.assemble(model, weights_dir)
    assert not (weights_dir / model.path).exists()  # no half-trusted file left behind


def test_verify_detects_a_corrupted_file(plugin: Path, weights_dir: Path) -> None:
    model = spec(plugin, weights_dir, "demo/model.bin")
    target = w.assemble(model, weights_dir)
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    report = w.check(model, weights_dir)
    assert report.state is w.FileState.CORRUPT and report.actual_sha256 != model.sha256
    result = run(weights_dir, "verify")
    assert result.exit_code == 1
    assert "corrupt" in result.output and "demo/model.bin" in result.output


def test_import_places_a_file_by_checksum_whatever_its_name(plugin: Path, weights_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "downloaded-anything.json"
    src.write_bytes(SMALL)
    placed = w.import_path(src, weights_dir, catalog(plugin, weights_dir))
    assert [p.target.relative_to(weights_dir).as_posix() for p in placed] == ["demo/config.json"]
    assert not placed[0].warning
    assert (weights_dir / "demo/config.json").read_bytes() == SMALL


def test_import_refuses_a_file_named_right_with_the_wrong_content(
    plugin: Path, weights_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "config.json"
    src.write_bytes(b"not the config")
    with pytest.raises(BadInput, match="checksum"):
        w.import_path(src, weights_dir, catalog(plugin, weights_dir))
    assert not (weights_dir / "demo/config.json").exists()


def test_a_file_with_the_declared_structure_is_imported_with_a_warning_and_its_sum_recorded(
    plugin: Path, weights_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "structured.pt"
    src.write_bytes(b"STRUCT a fine-tune")
    result = run(weights_dir, "import", str(src))
    assert result.exit_code == 0, result.output
    assert "not the published file" in result.output
    record = json.loads((weights_dir / "imported.json").read_text())
    assert record["other/structured.pt"]["sha256"] == _sha(b"STRUCT a fine-tune")
    verified = run(weights_dir, "verify")
    assert verified.exit_code == 0 and "imported" in verified.output
    (weights_dir / "other/structured.pt").write_bytes(b"STRUCT changed afterwards")
    assert run(weights_dir, "verify").exit_code == 1  # checked against the recorded sum


def test_a_file_of_the_wrong_structure_is_refused_with_the_reason(
    plugin: Path, weights_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "structured.pt"
    src.write_bytes(b"<html>a failed download</html>")
    result = run(weights_dir, "import", str(src))
    assert result.exit_code != 0
    assert "no STRUCT header" in result.output
    assert not (weights_dir / "other/structured.pt").exists()


def test_import_folder_takes_unchecked_files_by_name(plugin: Path, weights_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dl"
    folder.mkdir()
    (folder / "unchecked.bin").write_bytes(b"x" * 10)
    (folder / "readme.txt").write_text("ignored")
    result = run(weights_dir, "import", str(folder))
    assert result.exit_code == 0, result.output
    assert (weights_dir / "other/unchecked.bin").is_file()
    assert not (weights_dir / "readme.txt").exists()


def test_list_shows_a_plugins_files_their_state_source_and_fix(plugin: Path, weights_dir: Path) -> None:
    result = run(weights_dir, "list")
    assert result.exit_code == 0, result.output
    assert "in package" in result.output  # demo/model.bin from the fake package
    assert "memoria weights import config.json" in result.output  # the fix for the missing config
    assert "https://example.org/other" in result.output  # where it is published
    assert "used by demo-backend" in result.output


def test_ensure_files_assembles_once(plugin: Path, weights_dir: Path) -> None:
    (weights_dir / "demo").mkdir()
    (weights_dir / "demo/config.json").write_bytes(SMALL)
    files = [s for s, _ in catalog(plugin, weights_dir) if s.model == "demo"]
    w.ensure_files(files, weights_dir)
    stamp = (weights_dir / "demo/model.bin").stat().st_mtime_ns
    w.ensure_files(files, weights_dir)
    assert (weights_dir / "demo/model.bin").stat().st_mtime_ns == stamp


def test_the_bundled_backends_declare_every_file_once_with_a_source() -> None:
    root = Path(__file__).resolve().parents[3]
    registry = Registry.from_file(root / "plugin_registry.toml", weights_dir=root / "weights", entry_points=False)
    files = registry.weight_files()
    paths = [s.path for s, _ in files]
    assert len(paths) == len(set(paths))
    assert {"whisper/base/model.bin", "piper/en_US-joe-medium.onnx", "coqui/xtts_v2/model.pth"} <= set(paths)
    for file, users in files:
        assert users and (file.source or file.from_packages), file.path
        assert file.from_packages or file.fetch, f"{file.path}: no way to get it"
