"""What the app remembers between runs: server address, last email, the login token.

Stored as JSON in the app's private folder (Kivy's user_data_dir; MEMORIA_APP_HOME overrides it
for tests and for running several desktop copies side by side).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import msgspec


class Prefs(msgspec.Struct):
    server_url: str = "http://127.0.0.1:8000"
    email: str = ""
    token: str = ""
    # https servers trusted on first use: base URL -> the certificate authority (PEM) they showed
    pinned: dict[str, str] = msgspec.field(default_factory=dict)


def prefs_path(default_dir: str) -> Path:
    return Path(os.environ.get("MEMORIA_APP_HOME") or default_dir) / "memoria_app.json"


def load_prefs(path: Path) -> Prefs:
    """The saved prefs, or defaults if the file is missing or unreadable."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=Prefs)
    except (OSError, msgspec.DecodeError):
        return Prefs()


def save_prefs(path: Path, prefs: Prefs) -> None:
    """Write atomically, readable only by us (it holds a token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(msgspec.to_builtins(prefs)), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
