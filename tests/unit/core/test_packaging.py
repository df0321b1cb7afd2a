"""A wheel carries the migrations, and the server finds them where a wheel installs them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from server.db import engine

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_the_wheel_installs_every_migration_beside_the_environment(tmp_path: Path) -> None:
    work = tmp_path / "src"
    shutil.copytree(
        ROOT,
        work,
        ignore=shutil.ignore_patterns(
            ".venv", "data", "weights", ".git", "build", "*.egg-info", "__pycache__", "node_modules"
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            ".",
            "-w",
            str(tmp_path / "dist"),
        ],
        cwd=work,
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("memoria-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n.split("/data/share/memoria/", 1)[1] for n in names if "/data/share/memoria/migrations/" in n}
    expected = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "migrations").rglob("*")
        if p.is_file() and p.suffix in (".py", ".mako")
    }
    assert shipped == expected


def test_without_a_checkout_the_installed_migrations_are_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = tmp_path / "share" / "memoria" / "migrations"
    shutil.copytree(ROOT / "migrations", installed, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(engine, "CHECKOUT_MIGRATIONS", tmp_path / "no-checkout" / "migrations")
    monkeypatch.setattr(engine, "INSTALLED_MIGRATIONS", installed)
    assert engine.migrations_dir() == installed
    newest = max(p.name.split("_", 1)[0] for p in (ROOT / "migrations" / "versions").glob("[0-9]*.py"))
    assert engine.head_revision() == newest


def test_no_migrations_anywhere_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.errors import ConfigError

    monkeypatch.setattr(engine, "CHECKOUT_MIGRATIONS", tmp_path / "a")
    monkeypatch.setattr(engine, "INSTALLED_MIGRATIONS", tmp_path / "b")
    with pytest.raises(ConfigError, match="no migrations in") as raised:
        engine.migrations_dir()
    assert "pip install" in (raised.value.hint or "")
