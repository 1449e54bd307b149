"""The messages pages in a real browser: reading, pictures, search, read state, deletion with
undo, live updates, other accounts, phone and desktop layouts, the keyboard."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from strongroom.client import Client
from tests.factories import PASSWORD, make_user, message, messages_client
from tests.web.ui.browsing import log_in, natural_width, no_sideways_scroll, shot, sign_up
from tests.web.ui.browsing import watch_console as watch
from tests.web.ui.scenes import MUM, upload_scene


def _read_state(client: Client, message_id: str) -> bool:
    return bool(client.get([message_id])[0]["read"])


def test_sign_up_turn_on_read_search_mark_unread_and_delete_with_undo(server, page: Page, shots):
    problems = watch(page)
    base = server.url
    sign_up(page, base, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", name="Messages backup is off")).to_be_visible()
    page.get_by_role("button", name="Turn on messages backup").click()
    expect(page.get_by_role("heading", name="No messages yet")).to_be_visible()

    with Client.register(base, "alice", PASSWORD, name="Pixel 8", platform="android") as phone:
        scene = upload_scene(phone, server.runtime.clock.now_ms())
        mum = scene.conversations["mum"]
        # The empty page notices the first conversation by itself.
        conversation_link = page.locator(f'#conversations li[data-id="{mum}"] a')
        expect(conversation_link).to_be_visible(timeout=10_000)
        expect(conversation_link.locator(".badge")).to_have_text(re.compile(r"^1\b"))
        conversation_link.click()

        picture = page.locator(f"#m{scene.ids['mum-photo']} img")
        assert natural_width(picture) == 480
        assert "you sent" in (picture.get_attribute("alt") or "")
        expect(page.locator(f"#m{scene.ids['mum-2']} .status")).to_have_text("Sent")
        # Opening the conversation reads it, on the server too (and so on the phone).
        expect(conversation_link.locator(".badge")).to_have_count(0)
        assert _poll(lambda: _read_state(phone, scene.ids["mum-5"]))
        shot(page, shots, "1-conversation-with-picture")

        page.get_by_label("Search all messages").fill("jacket")
        page.keyboard.press("Enter")
        hit = page.locator(".hit-link").first
        expect(hit.locator("mark")).to_have_text("jacket")  # one mark, on the word
        shot(page, shots, "2-search")
        hit.click()
        landed = page.locator(f"#m{scene.ids['mum-5']}")
        expect(landed).to_have_class(re.compile(r"\bhit\b"))
        expect(landed).to_be_in_viewport()
        expect(landed.locator("mark")).to_have_text("jacket")
        assert "around=" in page.url

        landed.get_by_role("button", name="Mark as unread").click()
        expect(landed).to_have_class(re.compile(r"\bunread\b"))
        expect(landed.get_by_role("button", name="Mark as read")).to_be_visible()
        assert _poll(lambda: not _read_state(phone, scene.ids["mum-5"]))
        expect(conversation_link.locator(".badge")).to_contain_text("1")

        doomed = page.locator(f"#m{scene.ids['mum-4']}")
        doomed.get_by_role("button", name="Delete message").click()
        expect(doomed).to_be_hidden()
        toast = page.locator("#toast")
        expect(toast).to_contain_text("Message deleted")
        shot(page, shots, "3-deleted-with-undo")
        toast.get_by_role("button", name="Undo").click()
        expect(doomed).to_be_visible()
        assert phone.get([scene.ids["mum-4"]]), "undo must keep the message on the server"

        doomed.get_by_role("button", name="Delete message").click()
        expect(toast).to_be_hidden(timeout=10_000)  # the undo time ran out: now it is deleted
        assert _poll(lambda: phone.get([scene.ids["mum-4"]]) == [])
        expect(doomed).to_have_count(0)
        export = page.locator('a[data-export="sbr-xml"]')
        assert export.get_attribute("href") == f"/api/v1/export?format=sbr-xml&conversation={mum}"
    assert problems == []


def test_deleting_a_conversation_can_be_undone_then_happens(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    with messages_client(server.url) as phone:
        scene = upload_scene(phone, server.runtime.clock.now_ms())
        log_in(page, server.url)
        hike = scene.conversations["hike"]
        page.goto(f"{server.url}/messages/c/{hike}")
        expect(page.get_by_role("heading", name="Hiking crew")).to_be_visible()
        group_sender = page.locator(f"#m{scene.ids['hike-2']} .sender")
        expect(group_sender).to_have_text("+1 555-010-0003")
        page.get_by_role("button", name="Mark conversation as unread").click()
        newest_incoming = page.locator(f"#m{scene.ids['hike-5']}")
        expect(newest_incoming).to_have_class(re.compile(r"\bunread\b"))
        expect(page.locator(f'#conversations li[data-id="{hike}"] .badge')).to_be_visible()
        assert phone.get([scene.ids["hike-5"]])[0]["read"] is False

        page.get_by_role("button", name="Delete conversation").click()
        expect(page.locator("#thread")).to_be_hidden()
        page.get_by_role("button", name="Undo").click()
        expect(page.locator("#thread")).to_be_visible()
        assert any(c["id"] == hike for c in phone.conversations())

        page.get_by_role("button", name="Delete conversation").click()
        page.keyboard.press("Escape")  # dismissing the toast deletes at once
        page.wait_for_url(f"{server.url}/messages")
        expect(page.locator(f'#conversations li[data-id="{hike}"]')).to_have_count(0)
        assert all(c["id"] != hike for c in phone.conversations())
        shot(page, shots, "conversation-deleted")
    assert problems == []


def test_a_message_synced_from_a_device_appears_without_reloading(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    with messages_client(server.url) as phone:
        first = phone.upload([message("Are you home?", sender=MUM)])["results"][0]["id"]
        log_in(page, server.url)
        page.goto(f"{server.url}/messages")
        page.locator("#conversations a.convo").first.click()
        expect(page.locator(f"#m{first}")).to_be_visible()
        page.evaluate("window.stillTheSamePage = true")

        phone.upload([message("I'm outside, open the door", sender=MUM)])
        phone.upload([message("New number, who dis", sender="+15550109999")])
        arrived = page.locator("#bubbles").get_by_text("I'm outside, open the door")
        expect(arrived).to_be_visible(timeout=10_000)
        expect(page.locator("#conversations li").first).to_contain_text("New number, who dis")
        assert page.evaluate("window.stillTheSamePage") is True
        # Read on arrival, because the conversation is open in front of the reader.
        newest = page.locator(".msg").last
        expect(newest).not_to_have_class(re.compile(r"\bunread\b"))
        shot(page, shots, "live-message")
    assert problems == []


def test_an_empty_messages_page_waits_for_news_instead_of_reloading(server, page: Page):
    """The event stream starts with the current state; the page knows the state it was
    rendered at, so only a change reloads it (it once reloaded itself every half second)."""
    sign_up(page, server.url, "ann")
    page.wait_for_load_state("load")  # the dashboard's own load must not count below
    with messages_client(server.url, "ann"):
        pass
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    with page.expect_response(lambda r: "/api/v1/events" in r.url):
        page.goto(server.url + "/messages")  # the stream opens; its first event comes at once
    expect(page.get_by_role("heading", name="No messages yet")).to_be_visible()
    page.wait_for_timeout(2000)
    assert [url for url in loads if url.endswith("/messages")] == [server.url + "/messages"]


def test_another_account_cannot_open_a_conversation_it_does_not_own(server, page: Page, shots):
    make_user(server.runtime, "alice")
    with messages_client(server.url, "alice") as phone:
        scene = upload_scene(phone, server.runtime.clock.now_ms())
        mum = scene.conversations["mum"]
        photo = phone.get([scene.ids["mum-photo"]])[0]["parts"][0]["id"]
    problems = watch(page)
    sign_up(page, server.url, "mallory")
    for path in (f"/messages/c/{mum}", f"/messages/c/{mum}?around={scene.ids['mum-5']}"):
        response = page.goto(server.url + path)
        assert response is not None and response.status == 404, path
        body = page.content()
        assert "jacket" not in body and "Grandpa" not in body and "555-010-0001" not in body
    # The older-messages fragment is fetched by the page's script, not opened: asked the same way.
    more = page.request.get(f"{server.url}/messages/c/{mum}/more?before={scene.ids['mum-5']}")
    assert more.status == 404
    assert "jacket" not in more.text() and "Grandpa" not in more.text()
    page.goto(f"{server.url}/messages/c/{mum}")
    expect(page.get_by_role("heading", name="Conversation not found")).to_be_visible()
    shot(page, shots, "not-found")
    assert page.request.get(f"{server.url}/api/v1/messages/parts/{photo}").status == 404
    assert page.request.get(f"{server.url}/api/v1/conversations/{mum}/messages").status == 404
    assert problems == []


def test_phone_width_shows_one_pane_and_desktop_width_two(server, browser, shots):
    make_user(server.runtime)
    with messages_client(server.url) as phone:
        scene = upload_scene(phone, server.runtime.clock.now_ms())
    mum = scene.conversations["mum"]
    sizes = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 860}}
    for label, viewport in sizes.items():
        context = browser.new_context(viewport=viewport, has_touch=label == "phone")
        page = context.new_page()
        problems = watch(page)
        log_in(page, server.url)
        assert no_sideways_scroll(page)
        nav = page.get_by_role("navigation", name="Main").bounding_box()
        assert nav is not None
        if label == "phone":  # a tab bar along the bottom
            assert nav["y"] > viewport["height"] - 100 and nav["width"] == viewport["width"]
        else:  # a sidebar on the left
            assert nav["x"] == 0 and nav["width"] < 300 and nav["height"] > 600
        shot(page, shots, f"{label}-dashboard", full=True)

        page.goto(f"{server.url}/messages")
        expect(page.locator(".list-pane")).to_be_visible()
        expect(page.locator(".thread-pane")).to_be_visible(visible=label == "desktop")
        shot(page, shots, f"{label}-messages")

        page.goto(f"{server.url}/messages/c/{mum}")
        expect(page.locator("#thread")).to_be_visible()
        expect(page.locator(".list-pane")).to_be_visible(visible=label == "desktop")
        expect(page.get_by_role("link", name="All conversations")).to_be_visible(
            visible=label == "phone"
        )
        picture = page.locator(f"#m{scene.ids['mum-photo']} img")
        assert natural_width(picture) > 0
        box = picture.bounding_box()
        assert box is not None and box["width"] <= min(320, viewport["width"] * 0.62) + 1
        assert no_sideways_scroll(page)
        shot(page, shots, f"{label}-conversation")
        if label == "phone":
            page.get_by_role("link", name="All conversations").click()
            expect(page.locator(".list-pane")).to_be_visible()
        context.close()
        assert problems == [], (label, problems)


def test_the_conversation_list_works_with_the_keyboard_alone(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    with messages_client(server.url) as phone:
        scene = upload_scene(phone, server.runtime.clock.now_ms())
    log_in(page, server.url)
    page.goto(f"{server.url}/messages")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('convo')"):
            break
    links = page.locator("#conversations a.convo")
    expect(links.first).to_be_focused()
    outline = links.first.evaluate("a => getComputedStyle(a).outlineStyle")
    assert outline not in ("", "none"), "the focused conversation must show a focus ring"
    page.keyboard.press("ArrowDown")
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("End")
    expect(links.last).to_be_focused()
    page.keyboard.press("Home")
    expect(links.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    shot(page, shots, "keyboard-focus")
    target = links.nth(1).get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}{target}")
    assert target == f"/messages/c/{scene.conversations['hike']}"
    # On into the conversation: its buttons take the focus in order.
    page.locator("#thread").focus()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="Delete conversation")).to_be_focused()
    assert problems == []


def test_long_histories_load_as_you_scroll(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    now = server.runtime.clock.now_ms()
    chat = [
        message(f"Message number {n}", sender=MUM, date=now - (100 - n) * 60_000, read=True)
        for n in range(100)
    ]
    others = [
        message(f"Hello from {n}", sender=f"+1555011{n:04d}", date=now - 86_400_000 - n * 60_000)
        for n in range(40)
    ]
    with messages_client(server.url) as phone:
        phone.upload(chat + others)
    log_in(page, server.url)
    page.goto(f"{server.url}/messages")
    items = page.locator("#conversations li[data-id]")
    expect(items).to_have_count(30)
    page.locator("#conversations").hover()
    for _ in range(10):
        page.mouse.wheel(0, 3000)
        if items.count() == 41:
            break
        page.wait_for_timeout(200)
    expect(items).to_have_count(41)

    items.first.locator("a").click()
    bubbles = page.locator("#bubbles")
    expect(bubbles.get_by_text("Message number 99")).to_be_in_viewport()
    expect(bubbles.get_by_text("Message number 20", exact=True)).to_have_count(0)
    page.locator("#thread").hover()
    for _ in range(30):
        page.mouse.wheel(0, -4000)
        if bubbles.get_by_text("Message number 0", exact=True).count():
            break
        page.wait_for_timeout(200)
    expect(bubbles.get_by_text("Message number 0", exact=True)).to_be_visible()
    expect(page.locator("#bubbles .msg")).to_have_count(100)
    expect(page.locator("#bubbles .day")).to_have_count(
        len({m["date"] // 86_400_000 for m in chat})
    )
    shot(page, shots, "scrolled-to-the-start")
    assert problems == []


def _poll(check, seconds: float = 5.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())


def test_every_message_can_be_downloaded_from_the_list(server, page: Page, shots):
    """The list's export menu downloads every conversation at once, in each format."""
    problems = watch(page)
    make_user(server.runtime)
    with messages_client(server.url) as phone:
        phone.upload([message("Are you home?", sender=MUM)])
        phone.upload([message("New number, who dis", sender="+15550109999")])
        log_in(page, server.url)
        page.goto(f"{server.url}/messages")
        page.get_by_title("Export all messages").click()
        shot(page, shots, "export-all-menu")
        menu = page.get_by_role("list", name="Export all messages as")
        with page.expect_download() as got:
            menu.get_by_role("link", name="CSV").click()
        text = Path(got.value.path()).read_text(encoding="utf-8")
        assert "Are you home?" in text and "New number, who dis" in text
        assert got.value.suggested_filename.endswith(".csv")
        with page.expect_download() as got:
            menu.get_by_role("link", name=re.compile(r"^Everything")).click()
        with zipfile.ZipFile(got.value.path()) as archive:
            names = archive.namelist()
            messages_json = archive.read("strongroom-export/messages.json").decode()
        assert "Are you home?" in messages_json and "New number, who dis" in messages_json
        assert "strongroom-export/index.html" in names
    assert problems == []
