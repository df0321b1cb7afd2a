"""Settings come from the TOML file and the environment, and bad values fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.errors import ConfigError
from server.settings import load_settings


def test_defaults_use_an_sqlite_file_under_data(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml", env={})
    assert settings.db_url == "sqlite+aiosqlite:///data/memoria.db"
    assert settings.ice_servers == () and not settings.loopback_only


def test_environment_overrides_file(tmp_path: Path) -> None:
    config = tmp_path / "memoria.toml"
    config.write_text('port = 9100\ndata_dir = "/srv/memoria"\n[limits]\nupload_bytes = 1000\n')
    env = {
        "MEMORIA_PORT": "9200",
        "DATABASE_URL": "mysql+aiomysql://u:p@127.0.0.1/m",
        "MEMORIA_ICE_SERVERS": "stun:a:3478, stun:b",
    }
    settings = load_settings(config, env=env)
    assert settings.port == 9200
    assert settings.data_dir == Path("/srv/memoria")
    assert settings.limits.upload_bytes == 1000
    assert settings.db_url == "mysql+aiomysql://u:p@127.0.0.1/m"
    assert settings.ice_servers == ("stun:a:3478", "stun:b")


def test_prefixed_database_url_wins(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "sqlite+aiosqlite:///a.db", "MEMORIA_DATABASE_URL": "sqlite+aiosqlite:///b.db"}
    assert load_settings(tmp_path / "x.toml", env=env).db_url.endswith("b.db")


@pytest.mark.parametrize("text", ["port = 'not a number'", "unknown_option = 1", "port = ["])
def test_bad_file_is_a_config_error(tmp_path: Path, text: str) -> None:
    config = tmp_path / "memoria.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(config, env={})
    assert "memoria.toml" in str(err.value)


def test_bad_environment_value_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MEMORIA_"):
        load_settings(tmp_path / "x.toml", env={"MEMORIA_PORT": "eighty"})
