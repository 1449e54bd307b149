"""Running the real ``strongroom`` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli_env(data: Path, db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env.update(
        STRONGROOM_DATA=str(data),
        STRONGROOM_DATABASE_URL=db_url,
        PYTHONWARNINGS="error",
    )
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strongroom", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
