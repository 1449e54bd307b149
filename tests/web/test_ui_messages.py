"""The messages pages over HTTP (both databases): the list and its pages, a conversation and
its windows, search, other accounts, and what every page must never contain."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.factories import browser_login, make_user, message, tus_post
from tests.web.ui.scenes import MUM, Scene, upload_scene


@dataclass
class Visit:
    browser: httpx.Client
    scene: Scene
    phone: object


@pytest.fixture
def visit(runtime, server, connect) -> Iterator[Visit]:
    """Alice's account with the scene uploaded by her phone, and a logged-in browser."""
    make_user(runtime)
    phone = connect()
    scene = upload_scene(phone, runtime.clock.now_ms())
    with httpx.Client(base_url=server.url) as browser:
        browser_login(browser)
        yield Visit(browser, scene, phone)


def _ids(html: str, pattern: str = r'<article class="msg[^"]*" id="m(\d+)"') -> list[str]:
    return re.findall(pattern, html)


def test_pages_need_a_login(runtime, server):
    with httpx.Client(base_url=server.url) as anonymous:
        for path in (
            "/messages",
            "/messages/c/1",
            "/messages/search?q=x",
            "/messages/list",
            "/messages/import",
        ):
            r = anonymous.get(path)
            assert r.status_code == 303 and r.headers["location"] == "/login", path


def test_the_list_shows_conversations_newest_first_with_names_snippets_and_unread(visit):
    page = visit.browser.get("/messages")
    assert page.status_code == 200
    ids = re.findall(r'<li data-id="(\d+)"', page.text)
    s = visit.scene.conversations
    assert ids.index(s["mum"]) < ids.index(s["hike"]) < ids.index(s["trip"])
    assert "Hiking crew" in page.text and "+44 20 7946 0018" in page.text
    assert "Weather says sunny until 3pm" in page.text
    hike = page.text.split(f'<li data-id="{s["hike"]}"')[1].split("</li>")[0]
    assert 'class="badge"' in hike and ">2<" in hike
    trip = page.text.split(f'<li data-id="{s["trip"]}"')[1].split("</li>")[0]
    assert "badge" not in trip


def test_the_list_pages_by_cursor_in_fragments(runtime, server, connect):
    make_user(runtime)
    phone = connect()
    phone.upload([message(f"hi {n}", sender=f"+1555012{n:04d}") for n in range(35)])
    with httpx.Client(base_url=server.url) as browser:
        browser_login(browser)
        first = browser.get("/messages")
        shown = re.findall(r'<li data-id="(\d+)"', first.text)
        cursor = re.search(r'<li class="more" data-next="([^"]+)">', first.text)
        assert len(shown) == 30 and cursor
        rest = browser.get("/messages/list", params={"cursor": cursor.group(1)})
        assert rest.status_code == 200 and "<html" not in rest.text
        more = re.findall(r'<li data-id="(\d+)"', rest.text)
        assert len(more) == 5 and not set(more) & set(shown)
        assert 'class="more"' not in rest.text
        # Without JavaScript the same cursor works as a page.
        page = browser.get("/messages", params={"cursor": cursor.group(1)})
        assert re.findall(r'<li data-id="(\d+)"', page.text) == more


def test_a_conversation_shows_bubbles_pictures_files_and_statuses(visit):
    s, ids = visit.scene.conversations, visit.scene.ids
    page = visit.browser.get(f"/messages/c/{s['mum']}")
    assert page.status_code == 200
    assert _ids(page.text) == [
        ids[k] for k in ("mum-1", "mum-2", "mum-3", "mum-photo", "mum-4", "mum-5")
    ]
    photo = visit.phone.get([ids["mum-photo"]])[0]["parts"][0]["id"]
    assert f'<img src="/api/v1/messages/parts/{photo}"' in page.text
    assert f'id="m{ids["mum-2"]}" data-id' in page.text and 'class="msg out' in page.text
    for fmt in ("html", "txt", "sbr-xml"):
        assert f'href="/api/v1/export?format={fmt}&amp;conversation={s["mum"]}"' in page.text

    trip = visit.browser.get(f"/messages/c/{s['trip']}").text
    pdf = visit.phone.get([ids["trip-1"]])[0]["parts"][0]["id"]
    assert f'href="/api/v1/messages/parts/{pdf}" download="Itinerary Lisbon.pdf"' in trip
    assert '<span class="status failed">Not sent</span>' in trip

    hike = visit.browser.get(f"/messages/c/{s['hike']}").text
    assert hike.count('<p class="sender">') == 4  # each incoming run in a group names its sender
    assert "3 people" in hike


def test_around_a_message_opens_the_window_that_holds_it_and_marks_it(runtime, server, connect):
    make_user(runtime)
    phone = connect()
    now = runtime.clock.now_ms()
    answer = phone.upload(
        [message(f"line {n}", sender=MUM, date=now - (200 - n) * 60_000) for n in range(200)]
    )
    ids = [r["id"] for r in answer["results"]]
    conversation = next(iter(phone.conversations()))["id"]
    with httpx.Client(base_url=server.url) as browser:
        browser_login(browser)
        page = browser.get(f"/messages/c/{conversation}", params={"around": ids[100], "q": "line"})
        shown = _ids(page.text)
        assert shown == ids[81:121]
        assert f'class="msg in unread hit" id="m{ids[100]}"' in page.text
        assert '<p class="text"><mark>line</mark> 100</p>' in page.text
        assert 'data-has-older="1"' in page.text and 'data-has-newer="1"' in page.text

        older = browser.get(f"/messages/c/{conversation}/more", params={"before": ids[81]})
        assert _ids(older.text) == ids[41:81]
        assert f'data-oldest="{ids[41]}"' in older.text and 'data-has-older="1"' in older.text
        newer = browser.get(f"/messages/c/{conversation}/more", params={"after": ids[180]})
        assert _ids(newer.text) == ids[181:]
        assert 'data-has-newer="0"' in newer.text

        newest = browser.get(f"/messages/c/{conversation}")
        assert _ids(newest.text) == ids[160:]
        assert 'data-has-newer="0"' in newest.text


def test_search_finds_marks_and_links_into_the_conversation(visit):
    s, ids = visit.scene.conversations, visit.scene.ids
    page = visit.browser.get("/messages/search", params={"q": "jacket"})
    assert page.status_code == 200
    link = f'href="/messages/c/{s["mum"]}?around={ids["mum-5"]}&amp;q=jacket#m{ids["mum-5"]}"'
    assert link in page.text
    assert "jacket</mark>" in page.text
    assert 'value="jacket"' in page.text

    nothing = visit.browser.get("/messages/search", params={"q": "zeppelin"})
    assert nothing.status_code == 200 and "Nothing found" in nothing.text
    empty = visit.browser.get("/messages/search", params={"q": '"" AND'})
    assert empty.status_code == 200 and 'role="alert"' in empty.text
    assert "Say what to search for." in empty.text


def test_another_account_gets_not_found_pages_and_no_data(visit, runtime, server):
    make_user(runtime, "mallory")
    s, ids = visit.scene.conversations, visit.scene.ids
    with httpx.Client(base_url=server.url) as other:
        browser_login(other, "mallory")
        for path in (
            f"/messages/c/{s['mum']}",
            f"/messages/c/{s['mum']}?around={ids['mum-5']}",
            f"/messages/c/{s['mum']}/more?before={ids['mum-5']}",
            f"/messages/c/{s['mum']}/more?after=0",
            "/messages/c/not-a-number",
        ):
            r = other.get(path)
            assert r.status_code == 404, path
            assert r.headers["content-type"].startswith("text/html"), path
            assert "jacket" not in r.text and "555-010-0001" not in r.text, path
        assert "Hiking crew" not in other.get("/messages").text
        assert "Nothing found" in other.get("/messages/search", params={"q": "jacket"}).text


def test_with_the_service_off_the_page_says_so_and_offers_to_turn_it_on(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url) as browser:
        browser_login(browser)
        page = browser.get("/messages")
        assert "Messages backup is off" in page.text
        assert 'action="/account/messages/on"' in page.text


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
_INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def test_no_page_has_inline_script_or_style_and_every_page_has_the_csp(visit):
    s, ids = visit.scene.conversations, visit.scene.ids
    paths = [
        "/messages",
        f"/messages/c/{s['mum']}",
        f"/messages/c/{s['hike']}?around={ids['hike-3']}",
        f"/messages/c/{s['mum']}/more?before={ids['mum-5']}",
        "/messages/list",
        "/messages/search?q=lake",
        "/dashboard",
        "/account/devices",
        "/account/messages",
        "/account/messages/off",
        "/account/password",
        "/account/cancel",
        "/messages/c/999",
    ]
    for path in paths:
        r = visit.browser.get(path)
        assert r.status_code in (200, 404), path
        assert "script-src 'self'" in r.headers["content-security-policy"], path
        assert not _INLINE_SCRIPT.search(r.text), path
        assert not _INLINE_STYLE.search(r.text), path
        assert "Traceback" not in r.text and not r.text.lstrip().startswith("{"), path
    for asset in ("/static/app.css", "/static/app.js", "/static/messages.js", "/static/icons.svg"):
        r = visit.browser.get(asset)
        assert r.status_code == 200 and "max-age" in r.headers["cache-control"], asset


def test_videos_and_audio_play_inline_and_other_files_download(runtime, server, connect):
    make_user(runtime)
    phone = connect()

    def part(ctype: str, name: str) -> dict:
        return {"content_type": ctype, "filename": name, "data_base64": "AAAA"}

    kinds = [("video/mp4", "clip.mp4"), ("audio/mpeg", "note.mp3"), ("image/svg+xml", "x.svg")]
    sent = phone.upload([message("media", kind="mms", parts=[part(*k) for k in kinds])])
    stored = phone.get([sent["results"][0]["id"]])[0]["parts"]
    url = {p["filename"]: f"/api/v1/messages/parts/{p['id']}" for p in stored}
    conversation = next(iter(phone.conversations()))["id"]
    with httpx.Client(base_url=server.url) as browser:
        browser_login(browser)
        page = browser.get(f"/messages/c/{conversation}").text
    assert f'<video class="media" src="{url["clip.mp4"]}" controls' in page
    assert f'<audio src="{url["note.mp3"]}" controls' in page
    assert f'<img src="{url["x.svg"]}"' not in page  # pictures that could run scripts are files
    assert f'href="{url["x.svg"]}" download="x.svg"' in page


def test_the_import_page_lists_the_accounts_own_imports_only(runtime, server, connect):
    make_user(runtime)
    make_user(runtime, "bob")
    for user, name in (("alice", "alice-sms.xml"), ("bob", "bobs-secret-sms.xml")):
        phone = connect(user)
        r = tus_post(phone.http, b"<smses count='0'></smses>", purpose="import", filename=name)
        upload = r.headers["location"].rsplit("/", 1)[-1]
        assert phone.http.post("/api/v1/imports", json={"upload": upload}).status_code == 202
    with httpx.Client(base_url=server.url) as browser:
        browser_login(browser)
        page = browser.get("/messages/import")
    assert page.status_code == 200
    assert "alice-sms.xml" in page.text and "bobs-secret-sms.xml" not in page.text
    assert 'id="import-form"' in page.text and "/static/imports.js" in page.text
