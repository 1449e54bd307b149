"""Browser tests: Playwright for Python driving Debian's chromium against the real server.

Never run ``playwright install``: the browser is Debian's (``apt-get install -y chromium``).
These tests run on SQLite only (they test pages and scripts, and run the server in a browser's
time); the SQL behind every page runs on SQLite and PostgreSQL in ``tests/web/test_ui_*.py``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import missing

LAUNCH_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        uses = set(getattr(item, "fixturenames", ()))
        if Path(str(item.fspath)).parent == here and uses & {"page", "browser"}:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        missing("Debian's chromium is not installed (apt-get install -y chromium)")
    return {**browser_type_launch_args, "executable_path": chromium, "args": LAUNCH_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 800}, "locale": "en-GB"}


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only, for the browser tests (see the module docstring)."""
    path = tmp_path / "strongroom.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def shots(output_path: str) -> Iterator[Path]:
    """The test's output folder, for its screenshots."""
    folder = Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
