"""Moving around the locker in a real browser: Photos loading more as the page scrolls, the
keyboard, and selecting by a long press on a touch screen."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.factories import make_user
from tests.web.ui.browsing import log_in, no_sideways_scroll, shot
from tests.web.ui.browsing import watch_console as watch
from tests.web.ui.locker_scenes import device, make_thumbnails, photo


def _many_photos(server_url: str, count: int) -> list[datetime]:
    """``count`` small photos, one every three days back from the end of June 2024, sent in
    one batch; returns the dates taken."""
    start = datetime(2024, 6, 30, 12, tzinfo=UTC)
    taken = [start - timedelta(days=3 * i) for i in range(count)]
    manifest = [
        {"name": f"P{i:03}.jpg", "folder": "Camera", "mtime": t.timestamp()}
        for i, t in enumerate(taken)
    ]
    parts = [
        ("file", (f"P{i:03}.jpg", photo(t.replace(tzinfo=None), size=(96, 72), variant=i)))
        for i, t in enumerate(taken)
    ]
    with device(server_url) as phone:
        answer = phone.http.post(
            "/api/v1/files/batch", data={"manifest": json.dumps(manifest)}, files=parts
        )
        assert answer.status_code == 201, answer.text
    return taken


def test_photos_load_more_as_the_page_scrolls_without_repeating_a_month(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    taken = _many_photos(server.url, 70)
    make_thumbnails(server.runtime)
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/photos")
    tiles = page.locator("#listing li.item")
    expect(tiles).to_have_count(60)  # the first page
    page.locator("#listing li.more").scroll_into_view_if_needed()
    expect(tiles).to_have_count(70)
    expect(page.locator("#listing li.more")).to_have_count(0)
    months = page.locator("#listing li.month h2").all_inner_texts()
    expected = list(dict.fromkeys(f"{t:%B %Y}" for t in taken))
    assert months == expected  # January 2024 spans both pages and is headed once
    names = [tiles.nth(i).get_attribute("data-name") for i in range(70)]
    assert names == [f"P{i:03}.jpg" for i in range(70)]
    shot(page, shots, "1-after-scrolling")
    assert problems == []


def test_the_keyboard_selects_opens_steps_and_closes(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    _many_photos(server.url, 3)
    make_thumbnails(server.runtime)
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/photos")
    page.get_by_label("Select P000.jpg").focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("region", name="Selected files")).to_contain_text("1 selected")
    page.keyboard.press("Escape")
    expect(page.get_by_role("region", name="Selected files")).to_be_hidden()

    page.get_by_label("Select P000.jpg").focus()
    page.keyboard.press("Tab")  # the picture's link
    page.keyboard.press("Enter")
    viewer = page.get_by_role("dialog", name="File")
    expect(viewer.get_by_role("heading", name="P000.jpg")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(viewer.get_by_role("heading", name="P001.jpg")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(viewer.get_by_role("heading", name="P000.jpg")).to_be_visible()
    expect(viewer.get_by_role("button", name="Previous")).to_be_disabled()
    shot(page, shots, "1-viewer-by-keyboard")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    focused = page.evaluate("document.activeElement.closest('li.item').dataset.name")
    assert focused == "P000.jpg"  # the focus went back where it was
    assert problems == []


def test_a_long_press_selects_on_a_touch_screen_and_taps_then_toggle(
    server, browser: Browser, shots
):
    make_user(server.runtime)
    _many_photos(server.url, 4)
    make_thumbnails(server.runtime)
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, locale="en-GB"
    )
    page = context.new_page()
    problems = watch(page)
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/photos")
    first = page.locator("#listing li.item").nth(0).locator("a.thumb")
    box = first.bounding_box()
    assert box is not None
    at = {"pointerType": "touch", "clientX": box["x"] + 20, "clientY": box["y"] + 20}
    first.dispatch_event("pointerdown", {**at, "bubbles": True})
    page.wait_for_timeout(700)
    first.dispatch_event("pointerup", {**at, "bubbles": True})
    first.dispatch_event("click")  # the click a touch ends with
    selection = page.get_by_role("region", name="Selected files")
    expect(selection).to_contain_text("1 selected")
    expect(page.get_by_role("dialog", name="File")).to_be_hidden()
    page.locator("#listing li.item").nth(2).locator("a.thumb").tap()
    expect(selection).to_contain_text("2 selected")
    expect(page.get_by_role("dialog", name="File")).to_be_hidden()
    shot(page, shots, "1-selected-by-touch")
    assert no_sideways_scroll(page)
    page.locator("#listing li.item").nth(0).locator("a.thumb").tap()
    page.locator("#listing li.item").nth(2).locator("a.thumb").tap()
    expect(selection).to_be_hidden()
    page.locator("#listing li.item").nth(1).locator("a.thumb").tap()  # not selecting: opens
    expect(page.get_by_role("dialog", name="File")).to_be_visible()
    context.close()
    assert problems == []
