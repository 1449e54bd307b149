"""The account settings pages: devices, the messages switch, retention, numbers, cancelling."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from strongroom.accounts import service
from strongroom.client.api import ApiError
from tests.factories import PASSWORD, browser_login, make_user, message


@pytest.fixture
def browser(runtime, server) -> Iterator[tuple[httpx.Client, str]]:
    make_user(runtime)
    with httpx.Client(base_url=server.url) as client:
        yield client, browser_login(client)


def _account(runtime) -> service.AccountView:
    with runtime.db.read() as s:
        return service.AccountView.of(service.account_by_name(s, "alice"))


def test_messages_on_then_off_only_with_the_confirmation(runtime, browser, connect):
    web, csrf = browser
    r = web.post("/account/messages/on", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/account/messages?done=on"
    assert _account(runtime).messages_enabled
    phone = connect(enable=False)
    phone.upload([message("keep me on the phone")])

    page = web.get("/account/messages/off")
    assert "deletes the cloud copy" in page.text and "keep their own messages" in page.text
    refused = web.post("/account/messages/off", data={"csrf_token": csrf})
    assert refused.status_code == 400 and "Tick the box" in refused.text
    assert _account(runtime).messages_enabled and list(phone.conversations())

    r = web.post("/account/messages/off", data={"csrf_token": csrf, "understood": "1"})
    assert r.status_code == 303
    done = web.get(r.headers["location"])
    assert "the cloud copy was deleted" in done.text
    assert not _account(runtime).messages_enabled
    with pytest.raises(ApiError) as off:
        phone.upload([message("more")])
    assert off.value.code == "messages-service-off"


def test_turning_on_from_the_messages_page_goes_back_there(runtime, browser):
    web, csrf = browser
    r = web.post("/account/messages/on", data={"csrf_token": csrf, "next": "/messages"})
    assert r.headers["location"] == "/messages?done=on"
    r = web.post("/account/messages/on", data={"csrf_token": csrf, "next": "https://evil.example"})
    assert r.headers["location"] == "/account/messages?done=on"


def test_retention_forever_or_a_number_of_days(runtime, browser):
    web, csrf = browser
    r = web.post(
        "/account/messages/retention", data={"csrf_token": csrf, "keep": "days", "days": "90"}
    )
    assert r.status_code == 303 and _account(runtime).message_retention_days == 90
    assert 'value="90"' in web.get("/account/messages").text
    bad = web.post(
        "/account/messages/retention", data={"csrf_token": csrf, "keep": "days", "days": "0"}
    )
    assert bad.status_code == 400 and "retention is a number of days" in bad.text
    assert 'aria-invalid="true"' in bad.text
    web.post("/account/messages/retention", data={"csrf_token": csrf, "keep": "forever"})
    assert _account(runtime).message_retention_days is None


def test_phone_numbers_and_region(runtime, browser):
    web, csrf = browser
    r = web.post(
        "/account/messages/numbers",
        data={
            "csrf_token": csrf,
            "phone_numbers": "+15550100100\n\n020 7946 0018",
            "default_region": "GB",
        },
    )
    assert r.status_code == 303
    account = _account(runtime)
    assert account.phone_numbers == ["+15550100100", "020 7946 0018"]
    assert account.default_region == "GB"
    assert '<option value="GB" selected>' in web.get("/account/messages").text
    bad = web.post(
        "/account/messages/numbers",
        data={"csrf_token": csrf, "phone_numbers": "", "default_region": "QQ"},
    )
    assert bad.status_code == 400 and "not a known region" in bad.text


def test_devices_are_listed_with_last_seen_and_can_be_revoked(runtime, browser, connect):
    web, csrf = browser
    phone = connect(name="Pixel 8")
    page = web.get("/account/devices")
    assert "Pixel 8" in page.text and "Last seen" in page.text
    device = phone.call("GET", "/api/v1/devices")["devices"][0]["device_id"]
    assert f'action="/account/devices/{device}/revoke"' in page.text
    r = web.post(f"/account/devices/{device}/revoke", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert "was revoked" in web.get(r.headers["location"]).text
    with pytest.raises(ApiError) as gone:
        phone.account()
    assert gone.value.status == 401
    again = web.post(f"/account/devices/{device}/revoke", data={"csrf_token": csrf})
    assert again.status_code == 404


def test_cancelling_needs_the_password_explains_the_hold_and_can_be_undone(runtime, browser):
    web, csrf = browser
    page = web.get("/account/cancel")
    assert "kept for 180 days" in page.text and "deleted for good" in page.text
    wrong = web.post("/account/cancel", data={"csrf_token": csrf, "password": "not it at all"})
    assert wrong.status_code == 400 and "Not cancelled" in wrong.text
    assert _account(runtime).status == "active"

    r = web.post("/account/cancel", data={"csrf_token": csrf, "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/account/reactivate"
    assert _account(runtime).status == "held"
    for path in ("/dashboard", "/messages", "/account/devices"):
        assert web.get(path).headers["location"] == "/account/reactivate", path
    held = web.get("/account/reactivate")
    assert "Reactivate my account" in held.text
    r = web.post("/account/reactivate", data={"csrf_token": csrf})
    assert r.status_code == 303 and _account(runtime).status == "active"


def test_settings_forms_refuse_a_missing_csrf_token(runtime, browser):
    web, _ = browser
    for path, data in (
        ("/account/messages/on", {}),
        ("/account/messages/off", {"understood": "1"}),
        ("/account/messages/retention", {"keep": "forever"}),
        ("/account/cancel", {"password": PASSWORD}),
    ):
        assert web.post(path, data=data).status_code == 403, path
    assert _account(runtime).status == "active"
