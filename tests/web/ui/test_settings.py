"""Account settings in a real browser: the messages switch, revoking a device, cancelling."""

from __future__ import annotations

import zipfile

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, make_user, message, messages_client
from tests.web.ui.browsing import log_in, shot
from tests.web.ui.browsing import watch_console as watch


def test_turning_messages_off_explains_and_needs_the_tick(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    with messages_client(server.url) as phone:
        phone.upload([message("on the phone and in the vault")])
        log_in(page, server.url)
        page.get_by_role("navigation", name="Account").get_by_role("link", name="Messages").click()
        page.get_by_role("link", name="Turn off…").click()
        expect(page.get_by_text("keep their own messages")).to_be_visible()
        expect(page.get_by_text("1 message in 1 conversation")).to_be_visible()  # what goes
        shot(page, shots, "messages-off-confirmation")
        with page.expect_download() as got:  # a copy first, all of it in one zip
            page.get_by_role("link", name="Download all your messages").click()
        with zipfile.ZipFile(got.value.path()) as archive:
            assert (
                "on the phone and in the vault"
                in archive.read("strongroom-export/messages.json").decode()
            )
        button = page.get_by_role("button", name="Delete the cloud copy and turn off")
        button.click()  # the browser refuses: the box is not ticked
        expect(page).to_have_url(f"{server.url}/account/messages/off")
        assert list(phone.conversations())
        page.get_by_label("I understand that the messages stored here are deleted").check()
        button.click()
        expect(page.get_by_role("status")).to_contain_text("the cloud copy was deleted")
        assert phone.account()["services"]["messages"] is False
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
        expect(page.get_by_role("heading", name="Messages backup is off")).to_be_visible()
    assert problems == []


def test_revoking_a_device_asks_first(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    with messages_client(server.url, name="Lost phone") as phone:
        log_in(page, server.url)
        page.goto(f"{server.url}/account/devices")
        asked: list[str] = []
        page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
        page.get_by_role("button", name="Revoke Lost phone").click()
        assert asked and "Lost phone" in asked[0]
        assert phone.account()["user"] == "alice"  # dismissed: still works
        page.once("dialog", lambda d: d.accept())
        page.get_by_role("button", name="Revoke Lost phone").click()
        expect(page.get_by_role("status")).to_contain_text("revoked")
        expect(page.get_by_text("No devices yet")).to_be_visible()
        shot(page, shots, "device-revoked")
    assert problems == []


def test_cancel_then_reactivate(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    log_in(page, server.url)
    page.goto(f"{server.url}/account/cancel")
    expect(page.get_by_text("kept for 180 days")).to_be_visible()
    everything = page.get_by_role("link", name="Download all your messages")
    assert everything.get_attribute("href") == "/api/v1/export?format=archive"
    page.get_by_label("Your password, to confirm").fill("a wrong guess")
    page.get_by_role("button", name="Cancel my account").click()
    expect(page.get_by_role("alert")).to_contain_text("password is wrong")
    page.get_by_label("Your password, to confirm").fill(PASSWORD)
    page.get_by_role("button", name="Cancel my account").click()
    expect(page.get_by_role("heading", name="Your account is cancelled")).to_be_visible()
    shot(page, shots, "cancelled")
    page.get_by_role("button", name="Reactivate my account").click()
    expect(page.get_by_role("heading", name="Hello, alice")).to_be_visible()
    assert problems == []
