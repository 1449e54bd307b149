"""Builders shared by the tests: accounts, devices, logged-in browsers."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from strongroom.accounts import service
from strongroom.runtime import Runtime

PASSWORD = "correct horse battery"


def make_user(rt: Runtime, name: str = "alice", password: str = PASSWORD) -> int:
    """Create an account directly through the service; return its id."""
    with rt.db.write() as s:
        account = service.create_account(
            s,
            name,
            password,
            keyring=rt.keyring,
            quota_bytes=rt.settings.default_quota_bytes,
            default_region=rt.settings.default_region,
            now=rt.clock.now_ms(),
        )
    return account.id


@dataclass
class DeviceLogin:
    device_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register_device(
    http: httpx.Client,
    user: str = "alice",
    password: str = PASSWORD,
    name: str = "Pixel 8",
    platform: str = "android",
) -> DeviceLogin:
    r = http.post(
        "/api/v1/devices",
        json={"user": user, "password": password, "name": name, "platform": platform},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return DeviceLogin(body["device_id"], body["token"])


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(page: httpx.Response) -> str:
    """The CSRF token embedded in a page's form."""
    match = _CSRF.search(page.text)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def browser_login(http: httpx.Client, user: str = "alice", password: str = PASSWORD) -> str:
    """Log in through the web form like a browser; return the session's CSRF token."""
    token = form_token(http.get("/login"))
    r = http.post("/login", data={"user": user, "password": password, "csrf_token": token})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/dashboard"
    return form_token(http.get("/dashboard"))
