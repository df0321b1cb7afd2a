"""`memoria db upgrade | downgrade | current` as a self-hoster runs them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from server.cli import main
from server.db.engine import head_revision

Invoke = Callable[..., Result]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Invoke:
    """Run `memoria db ...` in an empty folder with only the given DATABASE_URL set."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "MEMORIA_DATABASE_URL", "MEMORIA_DATA_DIR", "MEMORIA_CONFIG"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str, url: str | None = None) -> Result:
        env = {"DATABASE_URL": url} if url else {}
        return CliRunner().invoke(main, ["db", *args], env=env)

    return invoke


def test_upgrade_current_downgrade(run: Invoke, db_url: str) -> None:
    head = head_revision()
    assert head is not None
    steps = [
        (("current",), "at base (no tables)"),
        (("upgrade",), f"migrated base (no tables) -> {head}"),
        (("upgrade",), f"already at {head}, nothing to do"),
        (("current",), f"at {head}, newest {head} (up to date)"),
        (("downgrade", "base"), f"migrated {head} -> base (no tables)"),
        (("upgrade", head), f"migrated base (no tables) -> {head}"),
    ]
    for args, said in steps:
        result = run(*args, url=db_url)
        assert result.exit_code == 0, result.output
        assert said in result.output, (args, result.output)


def test_default_is_an_sqlite_file_under_data(run: Invoke, tmp_path: Path) -> None:
    result = run("upgrade")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "memoria.db").is_file()
    assert "data/memoria.db" in result.output


def test_unreachable_database_is_one_clear_line(run: Invoke) -> None:
    result = run("upgrade", url="mysql+aiomysql://memoria:s3cret@127.0.0.1:1/memoria_test_x")
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert "Traceback" not in result.output and "s3cret" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_downgrade_needs_a_revision(run: Invoke) -> None:
    result = run("downgrade")
    assert result.exit_code == 2
    assert "REVISION" in result.output
