from __future__ import annotations

import httpx

from strongroom.runtime import open_runtime
from tests.conftest import make_settings
from tests.factories import PASSWORD, browser_login, make_user, register_device
from tests.servers import start_app_server


def test_sign_up_over_the_api_then_register_a_device(runtime, http):
    r = http.post("/api/v1/accounts", json={"user": "Dana", "password": PASSWORD})
    assert r.status_code == 201
    assert r.json()["user"] == "dana" and r.json()["services"] == {"messages": False}
    again = http.post("/api/v1/accounts", json={"user": "dana", "password": PASSWORD})
    assert again.status_code == 409 and again.json()["code"] == "username-taken"
    device = register_device(http, "dana")
    account = http.get("/api/v1/account", headers=device.headers).json()
    assert account["quota_bytes"] == 50 * 1000**3 and account["default_region"] == "US"


def test_closed_sign_up_refuses_and_the_cli_path_still_works(tmp_path, db_url):
    rt = open_runtime(make_settings(tmp_path / "data", db_url, open_signup=False))
    try:
        with start_app_server(rt) as live, httpx.Client(base_url=live.url) as http:
            r = http.post("/api/v1/accounts", json={"user": "erin", "password": PASSWORD})
            assert r.status_code == 403 and r.json()["code"] == "signup-closed"
            make_user(rt, "erin")  # what `strongroom user create` does
            assert register_device(http, "erin").token
    finally:
        rt.close()


def test_password_change_ends_other_sessions_but_not_this_one(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url) as first, httpx.Client(base_url=server.url) as other:
        csrf = browser_login(first)
        browser_login(other)
        assert other.get("/api/v1/account").status_code == 200
        r = first.post(
            "/api/v1/account/password",
            json={"old_password": PASSWORD, "new_password": "a new password 2"},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 204, r.text
        assert first.get("/api/v1/account").status_code == 200
        assert other.get("/api/v1/account").status_code == 401


def test_cookie_authenticated_api_changes_need_the_csrf_header(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url) as browser:
        browser_login(browser)
        r = browser.post(
            "/api/v1/account/password",
            json={"old_password": PASSWORD, "new_password": "a new password 2"},
        )
        assert r.status_code == 403 and r.json()["code"] == "permission-denied"
