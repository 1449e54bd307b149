"""Device tokens the command line keeps between runs (mode 0600), per server and user."""

from __future__ import annotations

import json
import os
from pathlib import Path


def config_dir() -> Path:
    configured = os.environ.get("STRONGROOM_CLIENT_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "strongroom"


def _file() -> Path:
    return config_dir() / "devices.json"


def load_token(server: str, user: str) -> str | None:
    try:
        saved = json.loads(_file().read_text())
    except (FileNotFoundError, ValueError):
        return None
    token = saved.get(f"{server.rstrip('/')}|{user}")
    return token if isinstance(token, str) else None


def save_token(server: str, user: str, token: str) -> None:
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        saved = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        saved = {}
    saved[f"{server.rstrip('/')}|{user}"] = token
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(saved, f)
    os.replace(tmp, path)
