from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from server import weights as w
from server.cli.weights import command
from server.errors import BadInput, WeightsMissing

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
def weights_dir(tmp_path: Path, package: str) -> Path:
    wd = tmp_path / "weights"
    wd.mkdir()
    (wd / "manifest.toml").write_text(
        f"""
[[file]]
name = "demo"
path = "demo/model.bin"
sha256 = "{_sha(PART1 + PART2)}"
size = {len(PART1 + PART2)}
licence = "MIT"
used_by = ["demo-backend"]
from_packages = ["{package}:data/model.bin.part1", "{package}:data/model.bin.part2"]

[[file]]
name = "demo"
path = "demo/config.json"
sha256 = "{_sha(SMALL)}"
size = {len(SMALL)}
fetch = "memoria weights import config.json"

[[file]]
name = "other"
path = "other/unchecked.bin"
fetch = "memoria weights import unchecked.bin"
"""
    )
    return wd


def test_assemble_joins_parts_and_checks_the_sum(weights_dir: Path) -> None:
    manifest = w.load_manifest(weights_dir)
    model = manifest.model("demo")[0]
    assert w.check(model, weights_dir, verify=False).state is w.FileState.PACKAGED
    seen: list[int] = []
    target = w.assemble(model, weights_dir, progress=seen.append)
    assert target.read_bytes() == PART1 + PART2
    assert sum(seen) == len(PART1 + PART2)
    assert w.check(model, weights_dir).state is w.FileState.OK


def test_assemble_refuses_a_corrupt_part(weights_dir: Path, package: str, tmp_path: Path) -> None:
    (tmp_path / "site" / package / "data" / "model.bin.part2").write_bytes(PART2[:-1] + b"X")
    model = w.load_manifest(weights_dir).model("demo")[0]
    with pytest.raises(WeightsMissing, match="sha256"):
        w.assemble(model, weights_dir)
    assert not (weights_dir / model.path).exists()  # no half-trusted file left behind


def test_verify_detects_a_corrupted_file(weights_dir: Path) -> None:
    model = w.load_manifest(weights_dir).model("demo")[0]
    target = w.assemble(model, weights_dir)
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    report = w.check(model, weights_dir)
    assert report.state is w.FileState.CORRUPT
    assert report.actual_sha256 != model.sha256
    result = CliRunner().invoke(command, ["--weights-dir", str(weights_dir), "verify"])
    assert result.exit_code == 1
    assert "corrupt" in result.output and "demo/model.bin" in result.output


def test_import_places_a_file_by_checksum_whatever_its_name(weights_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "downloaded-anything.json"
    src.write_bytes(SMALL)
    placed = w.import_path(src, weights_dir)
    assert [t.relative_to(weights_dir).as_posix() for t, _ in placed] == ["demo/config.json"]
    assert (weights_dir / "demo/config.json").read_bytes() == SMALL


def test_import_refuses_a_file_named_right_with_the_wrong_content(weights_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "config.json"
    src.write_bytes(b"not the config")
    with pytest.raises(BadInput, match="checksum"):
        w.import_path(src, weights_dir)


def test_import_folder_takes_unchecked_files_by_name(weights_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dl"
    folder.mkdir()
    (folder / "unchecked.bin").write_bytes(b"x" * 10)
    (folder / "readme.txt").write_text("ignored")
    result = CliRunner().invoke(command, ["--weights-dir", str(weights_dir), "import", str(folder)])
    assert result.exit_code == 0, result.output
    assert (weights_dir / "other/unchecked.bin").is_file()
    assert not (weights_dir / "readme.txt").exists()


def test_list_shows_state_and_the_fix(weights_dir: Path) -> None:
    result = CliRunner().invoke(command, ["--weights-dir", str(weights_dir), "list"])
    assert result.exit_code == 0, result.output
    assert "in package" in result.output  # demo/model.bin from the fake package
    assert "memoria weights import config.json" in result.output  # the fix for the missing config
    assert "used by demo-backend" in result.output


def test_ensure_model_assembles_once(weights_dir: Path, package: str, tmp_path: Path) -> None:
    (weights_dir / "demo").mkdir()
    (weights_dir / "demo/config.json").write_bytes(SMALL)
    folder = w.ensure_model("demo", weights_dir)
    assert folder == weights_dir / "demo"
    stamp = (weights_dir / "demo/model.bin").stat().st_mtime_ns
    w.ensure_model("demo", weights_dir)
    assert (weights_dir / "demo/model.bin").stat().st_mtime_ns == stamp


def test_the_repository_manifest_parses_and_matches_backend_specs() -> None:
    repo_weights = Path(__file__).resolve().parents[3] / "weights"
    manifest = w.load_manifest(repo_weights)
    by_path = {f.path: f for f in manifest.file}
    from plugins.coqui.backend import XTTSVoiceBackend
    from plugins.piper.backend import PiperVoiceBackend
    from plugins.whisper.backend import WhisperASR

    for cls in (WhisperASR, PiperVoiceBackend, XTTSVoiceBackend):
        for spec in cls.info.weights:
            assert spec.path in by_path, f"{cls.info.name}: {spec.path} is not in weights/manifest.toml"
            entry = by_path[spec.path]
            assert (spec.sha256 or "") == entry.sha256, spec.path
            assert cls.info.name in entry.used_by
