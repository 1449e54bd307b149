"""The dashboard: backup health per device (with the silent-device warning) and storage."""

from __future__ import annotations

import re

import httpx

from strongroom.accounts.devices import DeviceView
from strongroom.accounts.usage import Usage
from strongroom.clock import DAY_MS
from strongroom.web.ui.dashboard import backup_health, usage_segments
from tests.factories import browser_login, make_user, message


def _device(name: str, seen: int | None, uploaded: int | None) -> DeviceView:
    return DeviceView(name, name, "android", 0, seen, uploaded, None, 0)


def test_a_device_is_silent_after_a_day_without_contact_once_it_has_backed_up():
    now = 10 * DAY_MS
    states = {
        h.device.name: h.state
        for h in backup_health(
            [
                _device("fresh", now - 1000, now - 1000),
                _device("quiet but checking in", now - 60_000, now - 5 * DAY_MS),
                _device("stopped", now - DAY_MS - 1, now - 2 * DAY_MS),
                _device("never backed up", now - 9 * DAY_MS, None),
            ],
            now,
        )
    }
    assert states == {
        "fresh": "ok",
        "quiet but checking in": "ok",
        "stopped": "silent",
        "never backed up": "new",
    }


def test_the_usage_bar_gives_each_used_category_its_share_and_a_visible_minimum():
    used = Usage(
        used_bytes=60,
        quota_bytes=100,
        by_category={"messages": 50, "photos": 0, "videos": 10, "music": 0, "other": 0},
    )
    assert [(s.category, s.start, s.width) for s in usage_segments(used)] == [
        ("messages", 0.0, 50.0),
        ("videos", 50.0, 10.0),
    ]
    tiny = Usage(used_bytes=5, quota_bytes=10**12, by_category={"messages": 5})
    assert usage_segments(tiny)[0].width > 0.5
    full = Usage(used_bytes=300, quota_bytes=100, by_category={"messages": 200, "photos": 100})
    assert sum(s.width for s in usage_segments(full)) == 100.0


def test_the_dashboard_shows_what_each_device_sent_and_warns_when_one_goes_silent(
    runtime, server, connect, clock
):
    make_user(runtime)
    phone = connect(name="Pixel 8")
    connect(name="Old tablet")  # signed in, never backed up
    phone.upload([message("one"), message("two"), message("three")])
    with httpx.Client(base_url=server.url) as browser:
        browser_login(browser)
        page = browser.get("/dashboard").text
        assert "Backing up" in page and "No backup yet" in page
        assert re.search(r"sent 3 messages \(3 new\)", page)
        assert "3 messages backed up from this device in all" in page
        assert 'role="alert"' not in page

        clock.advance(days=2, seconds=5)
        page = browser.get("/dashboard").text
        warning = re.search(
            r'<div class="alert warn" role="alert">(.*?)</div>\s*</div>', page, re.S
        )
        assert warning, "a silent device must be called out"
        assert "Pixel 8 has not backed up for 2 days" in warning.group(1)
        assert "Old tablet" not in warning.group(1)
        assert "Silent for 2 days" in page

        phone.upload([])  # it checks in again: nothing new, but alive
        assert 'role="alert"' not in browser.get("/dashboard").text


def test_the_storage_card_shows_the_split_and_the_quota(runtime, server, connect):
    make_user(runtime)
    phone = connect()
    picture = {"content_type": "image/png", "filename": "a.png", "data_base64": "iVBORw0KGgo="}
    phone.upload([message("with a picture", parts=[picture])])
    with httpx.Client(base_url=server.url) as browser:
        browser_login(browser)
        page = browser.get("/dashboard").text
        assert re.search(r'<rect class="seg messages" x="0\.0" y="0" width="0\.6"', page)
        assert "of 50.0 GB used" in page and "50.0 GB free" in page
        assert 'aria-label="0.0% of your storage is used"' in page
