"""The app's life cycle, on a real server in this process."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.factories import PASSWORD, make_user
from tests.servers import start_app_server


def test_a_stopping_server_leaves_no_sqlite_write_ahead_log_behind(runtime):
    make_user(runtime)
    with start_app_server(runtime) as live, httpx.Client(base_url=live.url) as http:
        r = http.post(
            "/api/v1/devices",
            json={
                "user": "alice",
                "password": PASSWORD,
                "name": "a",
                "platform": "linux",
            },
        )
        assert r.status_code == 201
    if runtime.db.is_sqlite:
        wal = Path(runtime.db.engine.url.database + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0
