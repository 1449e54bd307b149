"""Uploading to the locker in a real browser: the file picker, Photos as a timeline with
thumbnails that arrive while the page is open, Documents, the details of a photo, and an
upload whose connection drops and resumes."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from playwright.sync_api import Page, Request, Route, expect

from tests.factories import make_user
from tests.web.ui.browsing import log_in, natural_width, no_sideways_scroll, pick_files, shot
from tests.web.ui.browsing import watch_console as watch
from tests.web.ui.locker_scenes import make_thumbnails, pdf, photo


def test_three_photos_and_a_document_by_the_file_picker(server, page: Page, shots, tmp_path):
    problems = watch(page)
    make_user(server.runtime)
    log_in(page, server.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Photos").click()
    expect(page.get_by_role("heading", name="No photos yet")).to_be_visible()

    files = {
        "beach.jpg": photo(datetime(2024, 5, 3, 10, 30), (80, 160, 230), gps=(50.8225, -0.1372)),
        "hills.jpg": photo(datetime(2024, 5, 20, 18, 5), (230, 150, 90)),
        "snow.jpg": photo(
            datetime(2023, 12, 24, 9, 0), (200, 210, 225), camera=("Apple", "iPhone 15")
        ),
        "lease.pdf": pdf(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    pick_files(page, [tmp_path / name for name in files])

    uploads = page.get_by_role("region", name="Uploads")
    expect(uploads).to_contain_text("4 uploaded", timeout=20_000)
    tiles = page.locator("#listing li.item")
    expect(tiles).to_have_count(3)
    expect(page.locator("#listing .thumb-wait")).to_have_count(3)  # thumbnails are on their way
    shot(page, shots, "1-uploaded-previews-pending")

    make_thumbnails(server.runtime)
    pictures = page.locator("#listing li.item img")
    expect(pictures).to_have_count(3, timeout=20_000)  # the page asks again by itself
    assert all(natural_width(pictures.nth(i)) == 256 for i in range(3))
    months = page.locator("#listing li.month h2")
    expect(months).to_have_text(["May 2024", "December 2023"])  # newest taken first
    expect(pictures.first).to_have_attribute("alt", re.compile(r"^hills\.jpg, taken .*20 May 2024"))
    usage = page.get_by_role("region", name="Storage")
    expect(usage).to_contain_text("Photos")
    expect(usage).to_contain_text("Documents")
    shot(page, shots, "2-photos-timeline")

    page.get_by_role("link", name=re.compile("^beach.jpg")).click()
    viewer = page.get_by_role("dialog", name="File")
    facts = viewer.locator("dl.facts")
    expect(facts).to_contain_text("Google Pixel 8")
    expect(facts).to_contain_text("640 × 480 pixels")
    expect(facts).to_contain_text("3 May 2024, 10:30")
    expect(facts).to_contain_text("50.82250, -0.13720")
    assert natural_width(viewer.locator(".panel-media img")) == 640
    shot(page, shots, "3-photo-details")
    page.keyboard.press("ArrowRight")
    expect(viewer.get_by_role("heading", name="snow.jpg")).to_be_visible()
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Documents").click()
    row = page.locator("#listing li.item")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("lease.pdf")
    assert len(files["lease.pdf"]) < 1000
    expect(row).to_contain_text(f"{len(files['lease.pdf'])} B")
    shot(page, shots, "4-documents")
    assert no_sideways_scroll(page)
    assert problems == []


def test_an_upload_whose_connection_drops_resumes_and_keeps_every_byte(
    server, page: Page, shots, tmp_path
):
    problems = watch(page)
    make_user(server.runtime)
    log_in(page, server.url)
    data = hashlib.shake_256(b"strongroom").digest(20_000_000)  # three requests of 8 MB at most
    (tmp_path / "holiday.mov").write_bytes(data)
    patches: list[str] = []
    seen: list[tuple[str, str | None]] = []

    def drop_the_second_patch(route: Route, request: Request) -> None:
        if request.method == "PATCH":
            patches.append(request.headers.get("upload-offset", ""))
            if len(patches) == 2:
                route.abort("connectionreset")
                return
        route.continue_()

    page.on("request", lambda r: seen.append((r.method, r.headers.get("upload-offset"))))
    page.route(re.compile(r".*/api/v1/uploads/.+"), drop_the_second_patch)
    page.goto(f"{server.url}/locker/files")
    pick_files(page, tmp_path / "holiday.mov")

    uploads = page.get_by_role("region", name="Uploads")
    expect(uploads).to_contain_text("1 uploaded", timeout=30_000)
    expect(uploads.locator(".upload")).to_contain_text("resumed after a dropped connection")
    row = page.locator("#listing li.item", has_text="holiday.mov")
    expect(row).to_be_visible()
    shot(page, shots, "1-resumed-and-uploaded")
    # The dropped request was asked about (HEAD) and sent again from where the server was,
    # not from the start.
    assert patches == ["0", "8000000", "8000000", "16000000"], patches
    methods = [m for m, _ in seen if m in ("POST", "PATCH", "HEAD")]
    assert methods == ["POST", "PATCH", "PATCH", "HEAD", "PATCH", "PATCH"], methods

    file_id = row.get_attribute("data-id")
    stored = page.request.get(f"{server.url}/api/v1/files/{file_id}").json()
    assert stored["size"] == len(data)
    assert stored["sha256"] == hashlib.sha256(data).hexdigest()
    content = page.request.get(f"{server.url}/api/v1/files/{file_id}/content").body()
    assert hashlib.sha256(content).digest() == hashlib.sha256(data).digest()
    assert [
        p for p in problems if "connectionreset" not in p and "ERR_CONNECTION_RESET" not in p
    ] == []


def test_an_upload_left_half_done_resumes_when_the_file_is_chosen_again(
    server, page: Page, shots, tmp_path
):
    make_user(server.runtime)
    log_in(page, server.url)
    data = hashlib.shake_256(b"half done").digest(17_000_000)
    (tmp_path / "film.mkv").write_bytes(data)
    sent: list[tuple[str, str]] = []
    offline = {"now": False}

    def cut_off_after_the_first_patch(route: Route, request: Request) -> None:
        if offline["now"]:
            route.abort("internetdisconnected")
            return
        sent.append((request.method, request.headers.get("upload-offset", "")))
        if request.method == "PATCH" and request.headers.get("upload-offset") == "0":
            offline["now"] = True  # everything after the first request of bytes fails
        route.continue_()

    page.context.route(re.compile(r".*/api/v1/uploads.*"), cut_off_after_the_first_patch)
    page.goto(f"{server.url}/locker/files")
    pick_files(page, tmp_path / "film.mkv")
    # Generous: the client waits out its retry delays first, slower still on a busy machine.
    expect(page.locator(".upload")).to_contain_text("Connection lost: resuming…", timeout=30_000)
    shot(page, shots, "1-connection-lost")
    page.close(run_before_unload=False)  # given up on: the tab is closed

    offline["now"] = False
    again = page.context.new_page()
    problems = watch(again)
    again.goto(f"{server.url}/locker/files")
    pick_files(again, tmp_path / "film.mkv")
    uploads = again.get_by_role("region", name="Uploads")
    expect(uploads).to_contain_text("1 uploaded", timeout=30_000)
    # One upload was created; the new tab asked how far it got and sent only the rest.
    assert sent == [
        ("POST", ""),
        ("PATCH", "0"),
        ("HEAD", ""),
        ("PATCH", "8000000"),
        ("PATCH", "16000000"),
    ], sent
    row = again.locator("#listing li.item", has_text="film.mkv")
    stored = again.request.get(f"{server.url}/api/v1/files/{row.get_attribute('data-id')}").json()
    assert stored["sha256"] == hashlib.sha256(data).hexdigest()
    assert problems == []
