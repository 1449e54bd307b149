"""Albums and share links in a real browser: an album made from the Photos selection, its
cover, a password-protected link opened by a stranger, and revoking it; the album's order
and cover chosen on its page; a link that expires on a chosen day."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

from tests.factories import make_user
from tests.web.ui.browsing import log_in, natural_width, shot
from tests.web.ui.browsing import watch_console as watch
from tests.web.ui.locker_scenes import device, make_thumbnails, photo, put

PASSWORD = "sunny day at the lake"


def test_an_album_shared_with_a_password_opens_for_a_stranger_until_revoked(
    server, page: Page, browser: Browser, shots
):
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        for day, sky in ((1, (80, 160, 230)), (2, (230, 150, 90)), (3, (120, 200, 140))):
            put(phone, photo(datetime(2024, 7, day, 12), sky), f"lake-{day}.jpg", "Camera")
    make_thumbnails(server.runtime)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/photos")

    page.get_by_label("Select lake-1.jpg").check()
    page.get_by_label("Select lake-3.jpg").check()
    selection = page.get_by_role("region", name="Selected files")
    expect(selection).to_contain_text("2 selected")
    selection.get_by_role("button", name="Add to album").click()
    chooser = page.get_by_role("dialog", name="Add 2 items to an album")
    expect(chooser).to_contain_text("No albums yet")
    chooser.get_by_label("New album name").fill("Lake weekend")
    chooser.get_by_role("button", name="Create and add").click()
    expect(page.locator("#toast")).to_contain_text("Added 2 items to “Lake weekend”")
    expect(selection).to_be_hidden()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Albums").click()
    card = page.get_by_role("link", name=re.compile("Lake weekend"))
    expect(card).to_contain_text("2 items")
    card.click()
    expect(page.locator("#listing li.item")).to_have_count(2)
    page.get_by_label("Select lake-3.jpg").check()
    page.get_by_role("button", name="Set as cover").click()
    expect(page.locator("#toast")).to_contain_text("cover")

    page.get_by_role("button", name="Share").first.click()
    dialog = page.get_by_role("dialog", name="Share the album “Lake weekend”")
    expect(dialog).to_contain_text("No links yet")
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_label("Expires").select_option(label="In 7 days")
    dialog.get_by_role("button", name="Create link").click()
    link = dialog.get_by_label("Share link")
    expect(link).to_have_count(1)
    url = link.input_value()
    assert re.fullmatch(re.escape(server.url) + r"/s/[A-Za-z0-9_-]{32,}", url), url
    expect(dialog.locator(".link-facts")).to_contain_text("password needed · expires")
    dialog.get_by_role("button", name="Copy the link").click()
    expect(page.locator("#toast")).to_contain_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == url
    shot(page, shots, "1-share-dialog")

    stranger = browser.new_context(viewport={"width": 390, "height": 844})
    visitor = stranger.new_page()
    visitor_problems = watch(visitor)
    visitor.goto(url)
    expect(visitor.get_by_role("heading", name="This link is protected")).to_be_visible()
    visitor.get_by_label("Password").fill("wrong guess")
    visitor.get_by_role("button", name="Open").click()
    expect(visitor.get_by_role("alert")).to_have_text("That password is not right.")
    expect(visitor.locator("main img")).to_have_count(0)
    visitor.get_by_label("Password").fill(PASSWORD)
    visitor.get_by_role("button", name="Open").click()
    gallery = visitor.get_by_role("list", name="Shared files")
    expect(gallery.locator("img")).to_have_count(2)
    assert natural_width(gallery.locator("img").first) > 0
    assert "alice" not in visitor.content()  # nothing of the account beyond the photos
    shot(visitor, shots, "2-stranger-sees-the-gallery")

    dialog.get_by_role("button", name="Revoke the link").click()
    expect(dialog.get_by_label("Share link")).to_have_count(0)
    expect(dialog).to_contain_text("No links yet")
    visitor.reload()
    expect(visitor.get_by_role("heading", name="This link is not available")).to_be_visible()
    shot(visitor, shots, "3-revoked")
    page.keyboard.press("Escape")
    page.reload()
    page.get_by_role("button", name="Share").first.click()
    expect(page.get_by_role("dialog", name=re.compile("Share the album"))).to_contain_text(
        "No links yet"
    )
    stranger.close()
    assert problems == []
    assert [p for p in visitor_problems if not p.startswith("404 ")] == []


def _album_order(page: Page) -> list[str]:
    return page.locator("#listing li.item").evaluate_all("items => items.map(i => i.dataset.name)")


def _saved_order(page: Page):
    """The next request that saves the album's order."""
    return page.expect_response(lambda r: r.request.method == "PUT" and r.url.endswith("/items"))


def test_the_owner_orders_an_album_and_picks_its_cover_and_the_link_shows_that_order(
    server, page: Page, browser: Browser, shots
):
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        made = [
            put(phone, photo(datetime(2024, 7, day, 12), variant=day), f"lake-{day}.jpg")
            for day in (1, 2, 3)
        ]
        album = phone.http.post("/api/v1/albums", json={"name": "Lake weekend"}).json()
        ids = [f["id"] for f in made]
        phone.http.post(f"/api/v1/albums/{album['id']}/items", json={"file_ids": ids})
    make_thumbnails(server.runtime)
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/albums/{album['id']}")
    assert _album_order(page) == ["lake-1.jpg", "lake-2.jpg", "lake-3.jpg"]

    page.get_by_role("button", name="Move lake-3.jpg later").click()
    expect(page.locator("#toast")).to_contain_text("“lake-3.jpg” is already last")
    with _saved_order(page) as saved:
        page.get_by_role("button", name="Move lake-3.jpg earlier").click()
    assert saved.value.ok
    assert _album_order(page) == ["lake-1.jpg", "lake-3.jpg", "lake-2.jpg"]
    earlier = page.get_by_role("button", name="Move lake-3.jpg earlier")
    expect(earlier).to_be_focused()  # the keyboard can go on moving it
    with _saved_order(page) as saved:
        page.keyboard.press("Enter")
    assert saved.value.ok
    assert _album_order(page) == ["lake-3.jpg", "lake-1.jpg", "lake-2.jpg"]
    expect(page.locator("#toast")).to_contain_text("“lake-3.jpg” is now 1 of 3")

    page.get_by_role("button", name="Set lake-2.jpg as the cover").click()
    expect(page.locator("#toast")).to_contain_text("“lake-2.jpg” is the album's cover now")
    covers = page.locator("#listing li.item:has(.cover-badge:visible)")
    expect(covers).to_have_count(1)
    expect(covers).to_have_attribute("data-name", "lake-2.jpg")
    expect(page.get_by_role("button", name="Set lake-2.jpg as the cover")).to_be_hidden()
    shot(page, shots, "4-album-order-and-cover")

    page.reload()
    assert _album_order(page) == ["lake-3.jpg", "lake-1.jpg", "lake-2.jpg"]
    expect(covers).to_have_attribute("data-name", "lake-2.jpg")
    page.goto(f"{server.url}/locker/albums")
    cover = page.get_by_role("link", name=re.compile("Lake weekend")).locator("img")
    expect(cover).to_have_attribute("src", f"/api/v1/files/{made[1]['id']}/thumbnail")

    page.goto(f"{server.url}/locker/albums/{album['id']}")
    page.get_by_role("button", name="Share").first.click()
    dialog = page.get_by_role("dialog", name="Share the album “Lake weekend”")
    dialog.get_by_role("button", name="Create link").click()
    url = dialog.get_by_label("Share link").input_value()
    stranger = browser.new_context()
    visitor = stranger.new_page()
    visitor.goto(url)
    expect(visitor.get_by_role("list", name="Shared files").locator(".tile-name")).to_have_text(
        ["lake-3.jpg", "lake-1.jpg", "lake-2.jpg"]
    )
    stranger.close()
    assert problems == []


def test_a_link_can_expire_at_the_end_of_a_chosen_day_in_the_owners_time_zone(
    server, browser: Browser
):
    zone = "Pacific/Auckland"
    context = browser.new_context(locale="en-GB", timezone_id=zone)
    page = context.new_page()
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        made = put(phone, b"%PDF", "lease.pdf")
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/f/{made['id']}")
    page.get_by_role("button", name="Share").click()
    dialog = page.get_by_role("dialog", name="Share “lease.pdf”")
    date = dialog.get_by_label("Last day the link works")
    expect(date).to_be_hidden()
    dialog.get_by_label("Expires").select_option(label="On a date…")
    expect(date).to_be_visible()
    today = datetime.now(ZoneInfo(zone)).date()
    expect(date).to_have_attribute("min", (today + timedelta(days=1)).isoformat())

    date.fill(today.isoformat())  # too early: the browser refuses it
    dialog.get_by_role("button", name="Create link").click()
    assert date.evaluate("d => d.validity.rangeUnderflow")
    expect(dialog.get_by_label("Share link")).to_have_count(0)

    last_day = today + timedelta(days=10)
    date.fill(last_day.isoformat())
    dialog.get_by_role("button", name="Create link").click()
    expect(dialog.get_by_label("Share link")).to_have_count(1)
    shown = f"{last_day.day} {last_day:%b} {last_day.year}, 23:59"
    expect(dialog.locator(".link-facts")).to_contain_text(f"no password · expires {shown}")
    expect(date).to_be_hidden()  # the form is ready for another link
    expect(dialog.get_by_label("Expires")).to_have_value("")

    end = datetime.combine(last_day, time(23, 59, 59, 999_000), ZoneInfo(zone))
    shares = page.request.get(f"{server.url}/api/v1/shares").json()["shares"]
    assert [s["expires_at"] for s in shares] == [int(end.timestamp() * 1000)]
    context.close()
    assert problems == []
