"""The locker pages over HTTP (both databases): logging in, the photo timeline and its pages,
folders, the tiles the script asks for again, the zip form, and other accounts."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from strongroom.client import Client
from tests.factories import browser_login, make_user
from tests.web.ui.locker_scenes import device, make_thumbnails, photo, put


@pytest.fixture
def phone(runtime, server) -> Iterator[Client]:
    make_user(runtime)
    with device(server.url) as client:
        yield client


@pytest.fixture
def browser(server, phone) -> Iterator[httpx.Client]:
    """Alice, logged in through the form; ``browser.csrf`` is her session's form token."""
    with httpx.Client(base_url=server.url) as http:
        http.csrf = browser_login(http)  # type: ignore[attr-defined]
        yield http


def _names(html: str) -> list[str]:
    return re.findall(r'<li class="item[^"]*" data-id="\d+" data-name="([^"]+)"', html)


def test_pages_need_a_login(server):
    with httpx.Client(base_url=server.url) as anonymous:
        for path in (
            "/locker/photos",
            "/locker/files",
            "/locker/files/A",
            "/locker/trash",
            "/locker/albums",
            "/locker/albums/1",
            "/locker/f/1",
            "/locker/tiles?ids=1",
        ):
            r = anonymous.get(path)
            assert r.status_code == 303 and r.headers["location"] == "/login", path
        assert anonymous.post("/locker/zip", data={"id": "1"}).status_code == 303  # fmt: skip


def test_photos_are_grouped_by_month_taken_and_paged_by_cursor(runtime, phone, browser):
    start = datetime(2024, 6, 30, 12, tzinfo=UTC)
    taken = [start - timedelta(days=3 * i) for i in range(65)]
    manifest = [{"name": f"P{i:03}.jpg", "mtime": t.timestamp()} for i, t in enumerate(taken)]
    files = [("file", (f"P{i:03}.jpg", photo(t, size=(40, 30)))) for i, t in enumerate(taken)]
    r = phone.http.post("/api/v1/files/batch", data={"manifest": json.dumps(manifest)}, files=files)
    assert r.status_code == 201
    make_thumbnails(runtime)
    first = browser.get("/locker/photos")
    assert first.status_code == 200
    assert _names(first.text) == [f"P{i:03}.jpg" for i in range(60)]
    headings = re.findall(r'<li class="month" data-month="([\d-]+)">', first.text)
    assert headings == ["2024-06", "2024-05", "2024-04", "2024-03", "2024-02", "2024-01"]
    more = re.search(r'<li class="more" data-next="([^"]+)"', first.text)
    assert more is not None
    rest = browser.get(more.group(1).replace("&amp;", "&") + "&partial=1")
    assert rest.status_code == 200 and "<html" not in rest.text  # a fragment
    assert _names(rest.text) == [f"P{i:03}.jpg" for i in range(60, 65)]
    assert 'class="more"' not in rest.text
    assert browser.get("/locker/photos?cursor=nonsense").status_code == 400


def test_a_folder_lists_its_subfolders_first_and_a_missing_one_is_not_found(phone, browser):
    put(phone, b"x", "zz.txt", "Trips")
    put(phone, b"y", "a.txt", "Trips/Été 2024")
    put(phone, b"z", "b.txt", "Trips/Alps")
    page = browser.get("/locker/files/Trips")
    assert page.status_code == 200
    rows = re.findall(r'class="row-name" href="([^"]+)"[^>]*>([^<]+)<', page.text)
    assert [name for _, name in rows] == ["Alps", "Été 2024", "zz.txt"]
    assert rows[1][0] == "/locker/files/Trips/%C3%89t%C3%A9%202024"
    assert _names(browser.get(rows[1][0]).text) == ["a.txt"]
    assert browser.get("/locker/files/Nowhere").status_code == 404


def test_the_zip_form_needs_the_session_token_and_streams_the_chosen_files(phone, browser):
    one = put(phone, b"first", "one.txt")
    two = put(phone, b"second", "two.txt")
    put(phone, b"third", "three.txt")
    data = {"id": [one["id"], two["id"]]}
    assert browser.post("/locker/zip", data=data).status_code == 403
    r = browser.post("/locker/zip", data={**data, "csrf_token": browser.csrf})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert {n: archive.read(n) for n in archive.namelist()} == {
            "one.txt": b"first",
            "two.txt": b"second",
        }


def test_tiles_come_back_only_for_the_accounts_own_live_files(runtime, server, phone, browser):
    mine = put(phone, photo(datetime(2024, 1, 1)), "mine.jpg")
    gone = put(phone, photo(datetime(2024, 1, 2)), "gone.jpg")
    phone.call("DELETE", f"/api/v1/files/{gone['id']}")
    make_user(runtime, "bob")
    with device(server.url, "bob") as other:
        theirs = put(other, photo(datetime(2024, 1, 3)), "theirs.jpg")
    r = browser.get(f"/locker/tiles?ids={mine['id']},{gone['id']},{theirs['id']},x")
    assert _names(r.text) == ["mine.jpg"]
    assert 'data-pending="1"' in r.text  # no thumbnail job has run
    make_thumbnails(runtime)
    again = browser.get(f"/locker/tiles?ids={mine['id']}")
    assert (
        "data-pending" not in again.text and f"/api/v1/files/{mine['id']}/thumbnail" in again.text
    )


def test_an_albums_tiles_come_back_with_their_ordering_buttons(runtime, server, phone, browser):
    mine = put(phone, photo(datetime(2024, 1, 1)), "mine.jpg")
    in_album = browser.get(f"/locker/tiles?ids={mine['id']}&view=album")
    assert "Move mine.jpg earlier" in in_album.text and "Set mine.jpg as the cover" in in_album.text
    elsewhere = browser.get(f"/locker/tiles?ids={mine['id']}&view=photos")
    assert _names(elsewhere.text) == ["mine.jpg"] and "Move mine.jpg" not in elsewhere.text


def test_another_accounts_file_album_and_folder_are_not_found(runtime, server, phone):
    secret = put(phone, photo(datetime(2024, 1, 1)), "secret.jpg", "Private")
    album = phone.call("POST", "/api/v1/albums", json={"name": "Secret album"})
    make_user(runtime, "bob")
    with httpx.Client(base_url=server.url) as bob:
        browser_login(bob, "bob")
        for path in (
            f"/locker/f/{secret['id']}",
            f"/locker/albums/{album['id']}",
            "/locker/files/Private",
            f"/locker/f/{secret['id']}?partial=1",
        ):
            r = bob.get(path)
            assert r.status_code == 404, path
            assert "secret" not in r.text.lower(), path  # fmt: skip


def test_the_trash_lists_deleted_files_and_the_file_page_says_so(phone, browser):
    doomed = put(phone, b"old", "old.txt", "Notes")
    put(phone, b"kept", "kept.txt", "Notes")
    phone.call("DELETE", f"/api/v1/files/{doomed['id']}")
    trash = browser.get("/locker/trash")
    assert _names(trash.text) == ["old.txt"]
    assert "Empty trash" in trash.text
    page = browser.get(f"/locker/f/{doomed['id']}")
    assert page.status_code == 200 and "In the trash since" in page.text
    assert _names(browser.get("/locker/files/Notes").text) == ["kept.txt"]


def test_the_trash_shows_a_deleted_folder_as_one_row_and_pages_the_files_deleted_alone(
    phone, browser
):
    manifest = [{"name": f"n{i:02}.txt", "folder": "Notes"} for i in range(62)]
    files = [("file", (m["name"], m["name"].encode())) for m in manifest]
    r = phone.http.post("/api/v1/files/batch", data={"manifest": json.dumps(manifest)}, files=files)
    for f in r.json()["files"]:
        phone.call("DELETE", f"/api/v1/files/{f['id']}")
    for name, data in [("a.jpg", b"aa"), ("b.txt", b"bbb"), ("c.txt", b"c" * 2000)]:
        put(phone, data, name, "Trips/Alps")
    alps = phone.call("GET", "/api/v1/folders", params={"parent": "Trips"})["folders"][0]
    phone.call("DELETE", f"/api/v1/folders/{alps['id']}")

    first = browser.get("/locker/trash")
    folders = re.findall(r'<li class="item folder trashed" data-folder-id="(\d+)"', first.text)
    assert folders == [alps["id"]]
    row = first.text[first.text.index('data-folder-id="') :]
    row = row[: row.index("</li>")]
    assert re.search(r"Trips</span> · Folder · 3 files · 2.0 kB · deleted", row), row
    assert 'aria-label="Restore the folder Alps"' in row
    assert 'aria-label="Delete the folder Alps forever"' in row
    shown = _names(first.text)
    assert len(shown) == 60 and not {"a.jpg", "b.txt", "c.txt"} & set(shown)
    more = re.search(r'<li class="more" data-next="([^"]+)"', first.text)
    assert more is not None
    rest = browser.get(more.group(1).replace("&amp;", "&") + "&partial=1")
    assert "data-folder-id" not in rest.text  # the folders come on the first page only
    assert sorted(shown + _names(rest.text)) == [f"n{i:02}.txt" for i in range(62)]

    phone.call("DELETE", "/api/v1/trash")
    empty = browser.get("/locker/trash")
    assert "data-folder-id" not in empty.text and "Empty trash" not in empty.text
