"""Each device's uploads are noted on the device (for backup health), one batch at a time."""

from __future__ import annotations

import httpx

from tests.factories import browser_login, make_user, message


def _devices(client) -> dict[str, dict]:
    return {d["name"]: d for d in client.call("GET", "/api/v1/devices")["devices"]}


def test_an_upload_batch_is_noted_on_the_device_that_sent_it(runtime, connect, clock):
    make_user(runtime)
    phone = connect(name="Pixel 8")
    tablet = connect(name="Tablet")
    before = _devices(phone)["Pixel 8"]
    assert before["last_upload_at"] is None and before["last_upload"] is None
    assert before["uploaded_messages"] == 0

    picture = {"content_type": "image/png", "filename": "a.png", "data_base64": "iVBORw0K"}
    first = message("one", parts=[picture])
    clock.advance(seconds=30)
    phone.upload([first, message("two"), {**message("bad"), "kind": "fax"}])
    clock.advance(seconds=30)
    phone.upload([first, message("three")])  # a retry of "one" is a duplicate

    seen = _devices(tablet)
    pixel = seen["Pixel 8"]
    assert pixel["last_upload_at"] == clock.now_ms()
    assert pixel["last_upload"] == {
        "messages": 2,
        "new": 1,
        "duplicates": 1,
        "rejected": 0,
        "attachments": 1,
    }
    assert pixel["uploaded_messages"] == 3  # one, two, three; the fax was refused
    assert seen["Tablet"]["last_upload_at"] is None


def test_an_empty_batch_counts_as_a_backup_that_had_nothing_to_send(runtime, connect, clock):
    make_user(runtime)
    phone = connect()
    clock.advance(seconds=90)
    phone.upload([])
    pixel = _devices(phone)["Pixel 8"]
    assert pixel["last_upload_at"] == clock.now_ms()
    assert pixel["last_upload"]["messages"] == 0 and pixel["uploaded_messages"] == 0


def test_uploads_from_the_web_session_are_not_put_on_any_device(runtime, server, connect):
    make_user(runtime)
    phone = connect()
    with httpx.Client(base_url=server.url) as browser:
        csrf = browser_login(browser)
        r = browser.post(
            "/api/v1/messages/upload",
            json={"items": [message("typed on the web")]},
            headers={"X-CSRF-Token": csrf, "Origin": server.url},
        )
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["status"] == "created"
    assert _devices(phone)["Pixel 8"]["last_upload_at"] is None
