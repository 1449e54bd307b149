"""A backup file imported through the API, then read in the browser."""

from __future__ import annotations

import base64
import io
import time

from PIL import Image
from playwright.sync_api import Page, expect

from strongroom.client import Client
from strongroom.jobs.tasks import make_worker
from tests.factories import PASSWORD, tus_post
from tests.formats.builders import call, calls, mms, part, sms, smses
from tests.web.ui.browsing import natural_width, no_sideways_scroll, shot, sign_up
from tests.web.ui.browsing import watch_console as watch

ANN = "+15550100001"
BEA = "+15550100002"
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
    the same file again is all duplicates, and a file that is not a backup fails clearly.
    Several files go at once (picked together, or dropped on the page), and one that fails
    does not stop the others."""
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
    other_phone = tmp_path / "sms-other-phone.xml"
    other_phone.write_bytes(
        smses(sms(address=BEA, body="Sent from the old phone", date="1700000500000")).encode()
    )
    call_log = tmp_path / "calls-20231114.xml"
    call_log.write_bytes(
        calls(
            call(number=ANN, date="1700000300000"), call(number=BEA, type="3", date="1700000400000")
        ).encode()
    )
    status = page.get_by_role("status")

    def settle(expected: str) -> None:
        """Run the imports the page queues (the test server runs no jobs itself; the page
        queues each file's import once it is uploaded) until the page says ``expected``."""
        worker = make_worker(server.runtime)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and expected not in (status.text_content() or ""):
            worker.run_until_idle()
            page.wait_for_timeout(200)
        expect(status).to_contain_text(expected)

    def import_file(path, expected: str) -> None:
        page.get_by_label("Backup files", exact=True).set_input_files(str(path))
        page.get_by_role("button", name="Import").click()
        expect(page.locator("#import-step")).to_have_text("Waiting to start…", timeout=15_000)
        settle(expected)

    import_file(backup, "3 new, 0 already here.")
    expect(page.locator("#import-bar")).to_have_attribute("value", "1")
    earlier = page.get_by_role("region", name="Earlier imports").get_by_role("listitem")
    expect(earlier).to_have_count(1)  # listed once it is over, without a reload
    expect(earlier.first).to_contain_text("sms-20231114.xml 3 new, 0 already here")
    expect(page.get_by_role("list", name="Files")).to_be_hidden()  # one file: the bar says it
    shot(page, shots, "imported-from-the-browser")
    import_file(backup, "0 new, 3 already here.")  # the same file again: nothing twice
    import_file(noise, "The import failed: notes.xml")

    # Three files picked together: one message and two calls are imported, and the file that
    # is not a backup is named with its reason without stopping the others.
    page.get_by_label("Backup files", exact=True).set_input_files(
        [str(other_phone), str(call_log), str(noise)]
    )
    chosen = "3 files: sms-other-phone.xml, calls-20231114.xml, notes.xml"
    expect(page.get_by_text(chosen)).to_be_visible()
    page.get_by_role("button", name="Import").click()
    settle("2 files imported: 3 new, 0 already here.")
    expect(status).to_contain_text("notes.xml was not imported: not a format Strongroom can import")
    rows = page.get_by_role("list", name="Files").get_by_role("listitem")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("sms-other-phone.xml 1 new, 0 already here")
    expect(rows.nth(1)).to_contain_text("calls-20231114.xml 2 new, 0 already here")
    expect(rows.nth(2)).to_contain_text("Not imported")
    expect(page.locator("#import-step")).to_have_text("Imported 2 of 3 files")
    shot(page, shots, "imported-several-files", full=True)

    # A file dropped on the page is chosen, and imported like a picked one.
    page.evaluate(
        """([name, text]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], name, { type: "text/xml" }));
            for (const type of ["dragenter", "dragover", "drop"]) {
                const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
                document.body.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        [call_log.name, call_log.read_text()],
    )
    expect(page.get_by_text("Chosen: calls-20231114.xml")).to_be_visible()
    page.get_by_role("button", name="Import").click()
    settle("0 new, 2 already here.")  # the calls were already in the log

    expect(earlier).to_have_count(7)
    page.reload()
    expect(earlier).to_have_count(7)
    expect(earlier.first).to_contain_text("calls-20231114.xml")
    expect(earlier.nth(1)).to_contain_text("failed")
    expect(earlier.nth(6)).to_contain_text("3 new, 0 already here")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone's screen
    assert no_sideways_scroll(page)
    shot(page, shots, "import-page-phone")
    page.get_by_role("link", name="Messages").first.click()
    conversations = page.locator("#conversations li a")
    expect(conversations).to_have_count(2)  # Ann's, and the other phone's with Bea
    conversations.filter(has_not_text="Sent from the old phone").click()
    expect(page.get_by_text("Are we still on for the lighthouse walk?")).to_be_visible()
    assert problems == []
