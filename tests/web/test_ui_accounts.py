"""The minimal pages: sign up, log in, dashboard, log out, password; CSRF refusals."""

from __future__ import annotations

import httpx

from tests.factories import PASSWORD, browser_login, form_token, make_user


def test_sign_up_in_the_browser_lands_on_the_dashboard(runtime, server):
    with httpx.Client(base_url=server.url) as browser:
        page = browser.get("/signup")
        assert page.status_code == 200
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        r = browser.post(
            "/signup",
            data={
                "user": "frank",
                "password": PASSWORD,
                "confirm": PASSWORD,
                "csrf_token": form_token(page),
            },
        )
        assert r.status_code == 303 and r.headers["location"] == "/dashboard"
        session_cookie = r.headers["set-cookie"]
        assert "strongroom_session=" in session_cookie
        assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
        dash = browser.get("/dashboard")
        assert dash.status_code == 200
        assert "Hello, frank" in dash.text
        assert "Messages backup: <strong>off</strong>" in dash.text
        assert "0 B</strong> of 50.0 GB used" in dash.text


def test_sign_up_mistakes_are_shown_on_the_page(runtime, server):
    with httpx.Client(base_url=server.url) as browser:
        page = browser.get("/signup")
        r = browser.post(
            "/signup",
            data={
                "user": "gina",
                "password": PASSWORD,
                "confirm": "different!",
                "csrf_token": form_token(page),
            },
        )
        assert r.status_code == 400 and "do not match" in r.text
        r = browser.post(
            "/signup",
            data={
                "user": "gina",
                "password": "short",
                "confirm": "short",
                "csrf_token": form_token(page),
            },
        )
        assert r.status_code == 400 and "at least 8 characters" in r.text


def test_log_in_and_out(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url) as browser:
        assert browser.get("/dashboard").headers["location"] == "/login"
        csrf = browser_login(browser)
        assert "Hello, alice" in browser.get("/dashboard").text
        r = browser.post("/logout", data={"csrf_token": csrf})
        assert r.status_code == 303
        assert browser.get("/dashboard").status_code == 303


def test_wrong_password_shows_an_error_without_saying_which_part_was_wrong(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url) as browser:
        page = browser.get("/login")
        r = browser.post(
            "/login",
            data={"user": "alice", "password": "bad guess!", "csrf_token": form_token(page)},
        )
        assert r.status_code == 401 and "Wrong user ID or password" in r.text


def test_a_cross_site_form_post_is_refused(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url) as browser:
        csrf = browser_login(browser)
        # An attacker's page cannot read the token, so its form arrives without one...
        r = browser.post(
            "/account/password",
            data={
                "old_password": PASSWORD,
                "new_password": "hacked pass 1",
                "confirm": "hacked pass 1",
            },
        )
        assert r.status_code == 403
        # ...and even a right token is refused when the browser says another site sent it.
        r = browser.post(
            "/account/password",
            data={
                "old_password": PASSWORD,
                "new_password": "hacked pass 1",
                "confirm": "hacked pass 1",
                "csrf_token": csrf,
            },
            headers={"Origin": "https://evil.example"},
        )
        assert r.status_code == 403
        r = browser.post(
            "/logout", data={"csrf_token": csrf}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert r.status_code == 403
        assert "Hello, alice" in browser.get("/dashboard").text  # still logged in


def test_login_form_without_its_csrf_cookie_is_refused(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url) as browser:
        r = browser.post(
            "/login", data={"user": "alice", "password": PASSWORD, "csrf_token": "forged"}
        )
        assert r.status_code == 403


def test_password_change_page(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url) as browser:
        csrf = browser_login(browser)
        r = browser.post(
            "/account/password",
            data={
                "old_password": PASSWORD,
                "new_password": "brand new pw 3",
                "confirm": "brand new pw 3",
                "csrf_token": csrf,
            },
        )
        assert r.status_code == 200 and "password was changed" in r.text
    with httpx.Client(base_url=server.url) as browser:
        browser_login(browser, password="brand new pw 3")
