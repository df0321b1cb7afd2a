"""Settings from `memoria.toml` (optional) and `MEMORIA_*` environment variables.

Environment wins over the file; `DATABASE_URL` is also read without the prefix because that is
what self-hosters expect.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

from server.errors import ConfigError


class Limits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Bounds on what a client may upload or send."""

    upload_bytes: int = 25 * 1024 * 1024
    image_pixels: int = 40_000_000
    image_min_side: int = 128
    voice_min_seconds: float = 1.0
    voice_max_seconds: float = 300.0
    text_chars: int = 10_000  # one memory, personality field, ...
    memories_per_avatar: int = 2_000
    upload_idle_s: float = 30.0  # a request body that stops arriving this long is cut off (408)
    upload_total_s: float = 600.0  # and one that takes longer than this in all


class CallLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How many calls this server takes at once (`[calls]` in memoria.toml)."""

    max_calls: int = 4  # more are answered "busy" (503 + Retry-After) instead of degrading every call
    per_user: int = 2
    connect_timeout_s: float = 20.0  # a call whose client never connects is ended after this


class BackupSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Nightly backups (`[backup]` in memoria.toml); off until `folder` is set."""

    folder: Path | None = None  # where memoria-<date>-<time>.tar archives go (best on another disk)
    run_at: str = "03:00"  # local time, HH:MM
    keep_daily: int = 7
    keep_weekly: int = 4


class LanSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """https for phones and tablets at home (`[lan]` in memoria.toml, or `memoria serve --lan`)."""

    enabled: bool = False
    host: str = "0.0.0.0"  # noqa: S104 - the point is to be reachable from the home network
    port: int = 8443
    names: tuple[str, ...] = ()  # more host names the certificate should carry (e.g. "memoria.home")
    cert_file: Path | None = None  # your own certificate (and key) instead of Memoria's local CA
    key_file: Path | None = None


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    data_dir: Path = Path("data")
    database_url: str = ""  # empty: an SQLite file in data_dir
    weights_dir: Path = Path("weights")
    registry_file: Path = Path("plugin_registry.toml")
    host: str = "127.0.0.1"
    port: int = 8000
    token_ttl_hours: int = 24 * 30
    ice_servers: tuple[str, ...] = ()  # e.g. ("stun:stun.example.org:3478",); none: LAN only
    # "relay": clients send media only through the TURN servers in ice_servers (networks that block
    # direct connections); "all": direct when possible, TURN when not
    ice_transport_policy: Literal["all", "relay"] = "all"
    loopback_only: bool = False  # tests: offer only 127.0.0.1 candidates
    limits: Limits = Limits()
    calls: CallLimits = CallLimits()
    backup: BackupSettings = BackupSettings()
    lan: LanSettings = LanSettings()
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-For is believed (a reverse proxy)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'memoria.db').as_posix()}"

    def with_changes(self, **changes: Any) -> Settings:
        return msgspec.structs.replace(self, **changes)


ENV_PREFIX = "MEMORIA_"


def load_settings(config_file: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Merge the TOML file (if any) with the environment; fail with a clear message on bad values."""
    env = dict(os.environ if env is None else env)
    path = config_file or Path(env.get(ENV_PREFIX + "CONFIG", "memoria.toml"))
    raw: dict[str, Any] = {}
    if path.is_file():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}", hint="fix the file or remove it") from exc
    fields = {f.name: f for f in msgspec.structs.fields(Settings)}
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "CONFIG":
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name in fields and name not in ("limits", "calls", "backup", "lan"):
            raw[name] = _from_env(value, name)
    if "DATABASE_URL" in env and ENV_PREFIX + "DATABASE_URL" not in env:
        raw["database_url"] = env["DATABASE_URL"]
    try:
        return msgspec.convert(raw, Settings, strict=False, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"bad setting: {exc}", hint=f"check {path} and the {ENV_PREFIX}* variables") from exc


def _from_env(value: str, name: str) -> Any:
    if name in ("ice_servers", "trusted_proxies"):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


def _dec_hook(type_: type, obj: Any) -> Any:
    if type_ is Path:
        return Path(obj)
    raise NotImplementedError
