"""A backup file imported through the API, then read in the browser."""

from __future__ import annotations

import base64
import io

from PIL import Image
from playwright.sync_api import Page, expect

from strongroom.client import Client
from strongroom.jobs.tasks import make_worker
from tests.factories import PASSWORD, tus_post
from tests.formats.builders import mms, part, sms, smses
from tests.web.ui.browsing import natural_width, no_sideways_scroll, shot, sign_up
from tests.web.ui.browsing import watch_console as watch

ANN = "+15550100001"
OWNER = "+15550100099"


def picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 90, 40)).save(out, "PNG")
    return out.getvalue()


def backup_file() -> bytes:
    data = base64.b64encode(picture()).decode()
    return smses(
        sms(address=ANN, body="Are we still on for the lighthouse walk?", date="1700000000000"),
        sms(address=ANN, body="Yes! Bring a coat", type="2", date="1700000060000"),
        mms(
            [
                part(ct="image/png", name="lighthouse.png", text="null", data=data),
                part(text="Made it to the top"),
            ],
            [(ANN, 137), (OWNER, 151)],
            date="1700000120000",
        ),  # fmt: skip
    ).encode()


def test_an_imported_backup_reads_like_a_chat(server, page: Page, shots) -> None:
    problems = watch(page)
    sign_up(page, server.url, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    page.get_by_role("button", name="Turn on messages backup").click()
    expect(page.get_by_role("heading", name="No messages yet")).to_be_visible()

    with Client.register(server.url, "alice", PASSWORD, name="laptop", platform="linux") as me:
        r = tus_post(me.http, backup_file(), purpose="import", filename="sms-20231114.xml")
        assert r.status_code == 201, r.text
        upload_id = r.headers["location"].rsplit("/", 1)[-1]
        started = me.http.post("/api/v1/imports", json={"upload": upload_id, "format": "auto"})
        assert started.status_code == 202, started.text
        make_worker(server.runtime).run_until_idle()
        done = me.http.get(f"/api/v1/imports/{started.json()['id']}").json()
    assert done["state"] == "done" and done["counts"]["imported"] == 3, done

    link = page.locator("#conversations li a").first
    expect(link).to_be_visible(timeout=10_000)  # the empty page notices the import by itself
    link.click()
    expect(page.get_by_text("Are we still on for the lighthouse walk?")).to_be_visible()
    image = page.locator("article img, .bubble img").first
    assert natural_width(image) == 320
    expect(page.locator("p.text", has_text="Made it to the top")).to_be_visible()
    shot(page, shots, "imported-conversation")

    page.get_by_label("Search all messages").fill("lighthouse")
    page.keyboard.press("Enter")
    expect(page.locator(".hit-link mark:not(:has(mark))").first).to_have_text("lighthouse")
    assert problems == []


def test_a_backup_file_is_imported_from_the_browser(server, page: Page, shots, tmp_path) -> None:
    """The import page uploads the file (tus), starts the import and follows it to the end;
    the same file again is all duplicates, and a file that is not a backup fails clearly."""
    problems = watch(page)
    sign_up(page, server.url, "alice")  # messages backup is off: importing turns it on
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    page.get_by_role("link", name="Import messages from a backup file").click()
    expect(page.get_by_role("heading", name="Import messages")).to_be_visible()
    expect(page.get_by_text("importing turns it on")).to_be_visible()
    backup = tmp_path / "sms-20231114.xml"
    backup.write_bytes(backup_file())
    noise = tmp_path / "notes.xml"
    noise.write_bytes(b"\x00\x01 not a backup at all " * 40)

    def import_file(path, expected: str) -> None:
        page.get_by_label("Backup file", exact=True).set_input_files(str(path))
        page.get_by_role("button", name="Import").click()
        expect(page.get_by_text("Waiting to start")).to_be_visible(timeout=15_000)
        make_worker(server.runtime).run_until_idle()  # the test server runs no jobs itself
        expect(page.get_by_role("status")).to_contain_text(expected, timeout=15_000)

    import_file(backup, "3 new, 0 already here.")
    expect(page.locator("#import-bar")).to_have_attribute("value", "1")
    shot(page, shots, "imported-from-the-browser")
    import_file(backup, "0 new, 3 already here.")  # the same file again: nothing twice
    import_file(noise, "The import failed: notes.xml")
    page.reload()
    earlier = page.get_by_role("region", name="Earlier imports").get_by_role("listitem")
    expect(earlier).to_have_count(3)
    expect(earlier.first).to_contain_text("failed")
    expect(earlier.nth(2)).to_contain_text("3 new, 0 already here")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone's screen
    assert no_sideways_scroll(page)
    shot(page, shots, "import-page-phone")
    page.get_by_role("link", name="Messages").first.click()
    link = page.locator("#conversations li a").first
    link.click()
    expect(page.get_by_text("Are we still on for the lighthouse walk?")).to_be_visible()
    assert problems == []
