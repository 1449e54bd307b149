"""The trash over HTTP (both databases): a deleted folder is one entry with what went with it,
and a folder or a file is deleted forever (space freed, nothing left to restore), or refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.factories import browser_login, make_user, register_device, upload_bytes


@contextmanager
def _client(runtime, server, name: str) -> Iterator[httpx.Client]:
    make_user(runtime, name)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        http.headers.update(register_device(http, name).headers)
        yield http


@pytest.fixture
def alice(runtime, server):
    with _client(runtime, server, "alice") as http:
        yield http


def _folder_id(http: httpx.Client, path: str, parent: str = "") -> str:
    found = http.get("/api/v1/folders", params={"parent": parent}).json()["folders"]
    return next(f["id"] for f in found if f["path"] == path)


def _used(http: httpx.Client) -> int:
    return http.get("/api/v1/usage").json()["used_bytes"]


def _trip(http: httpx.Client) -> str:
    """``Trip`` with three files (one in ``Trip/Day 1``) of 6 bytes in all, trashed at once."""
    upload_bytes(http, {}, b"a", "a.txt", "Trip")
    upload_bytes(http, {}, b"bb", "b.txt", "Trip")
    upload_bytes(http, {}, b"ccc", "c.txt", "Trip/Day 1")
    trip = _folder_id(http, "Trip")
    assert http.delete(f"/api/v1/folders/{trip}").status_code == 204
    return trip


def test_a_deleted_folder_is_one_entry_with_its_files_count_and_size(alice, clock):
    alone = upload_bytes(alice, {}, b"loose", "loose.txt", "Trip")
    alice.delete(f"/api/v1/files/{alone['id']}")  # deleted before its folder, on its own
    clock.advance(seconds=5)
    trip = _trip(alice)
    entries = alice.get("/api/v1/trash/folders").json()["folders"]
    assert [(e["id"], e["path"], e["name"], e["files"], e["size"]) for e in entries] == [
        (trip, "Trip", "Trip", 3, 6)
    ]  # "Trip/Day 1" went with it and is no entry of its own
    assert entries[0]["trashed_at"] == clock.now_ms()

    assert alice.post(f"/api/v1/folders/{trip}/restore").json() == {"files": 3}
    assert alice.get("/api/v1/trash/folders").json()["folders"] == []
    names = alice.get("/api/v1/files", params={"trashed": "true"}).json()["files"]
    assert [f["name"] for f in names] == ["loose.txt"]  # still in the trash on its own


def test_a_subfolder_deleted_before_its_parent_is_an_entry_of_its_own(alice, clock):
    upload_bytes(alice, {}, b"x", "x.txt", "Trip/Day 1")
    upload_bytes(alice, {}, b"yy", "y.txt", "Trip")
    day = _folder_id(alice, "Trip/Day 1", "Trip")
    alice.delete(f"/api/v1/folders/{day}")
    clock.advance(seconds=5)
    trip = _folder_id(alice, "Trip")
    alice.delete(f"/api/v1/folders/{trip}")
    entries = alice.get("/api/v1/trash/folders").json()["folders"]
    assert [(e["path"], e["files"], e["size"]) for e in entries] == [
        ("Trip", 1, 2),
        ("Trip/Day 1", 1, 1),
    ]  # newest first

    assert alice.delete(f"/api/v1/trash/folders/{trip}").json() == {"emptied": 1}
    assert [e["path"] for e in alice.get("/api/v1/trash/folders").json()["folders"]] == [
        "Trip/Day 1"
    ]
    assert alice.post(f"/api/v1/folders/{day}/restore").json() == {"files": 1}
    assert [f["name"] for f in alice.get("/api/v1/files", params={"folder": "Trip/Day 1"}).json()[
        "files"
    ]] == ["x.txt"]  # fmt: skip


def test_a_folder_deleted_forever_frees_its_space_and_cannot_come_back(alice):
    kept = upload_bytes(alice, {}, b"kept!", "kept.txt")
    earlier = upload_bytes(alice, {}, b"dddd", "d.txt", "Trip")
    alice.delete(f"/api/v1/files/{earlier['id']}")
    files_before = alice.get("/api/v1/files", params={"trashed": "true"}).json()["files"]
    trip = _trip(alice)
    assert _used(alice) == 5 + 4 + 6
    inside = alice.get("/api/v1/files", params={"trashed": "true"}).json()["files"]
    assert len(inside) == len(files_before) + 3

    r = alice.delete(f"/api/v1/trash/folders/{trip}")
    assert r.status_code == 200 and r.json() == {"emptied": 4}  # d.txt was inside it too
    assert _used(alice) == 5
    assert alice.get("/api/v1/files", params={"trashed": "true"}).json()["files"] == []
    assert alice.get("/api/v1/trash/folders").json()["folders"] == []
    for f in inside:
        assert alice.get(f"/api/v1/files/{f['id']}").status_code == 404
    assert alice.post(f"/api/v1/folders/{trip}/restore").status_code == 404
    assert alice.delete(f"/api/v1/trash/folders/{trip}").status_code == 404
    assert alice.get(f"/api/v1/files/{kept['id']}/content").content == b"kept!"


def test_a_trashed_file_is_deleted_forever_on_its_own(alice):
    doomed = upload_bytes(alice, {}, b"doomed", "doomed.txt", "Notes")
    other = upload_bytes(alice, {}, b"other", "other.txt", "Notes")
    alice.delete(f"/api/v1/files/{doomed['id']}")
    alice.delete(f"/api/v1/files/{other['id']}")
    assert _used(alice) == 11
    assert alice.delete(f"/api/v1/trash/files/{doomed['id']}").status_code == 204
    assert _used(alice) == 5
    assert alice.get(f"/api/v1/files/{doomed['id']}").status_code == 404
    assert alice.post(f"/api/v1/files/{doomed['id']}/restore").status_code == 404
    trashed = alice.get("/api/v1/files", params={"trashed": "true"}).json()["files"]
    assert [f["name"] for f in trashed] == ["other.txt"]


def test_only_what_is_in_the_trash_can_be_deleted_forever(alice):
    live = upload_bytes(alice, {}, b"live", "live.txt", "Live")
    folder = _folder_id(alice, "Live")
    r = alice.delete(f"/api/v1/trash/files/{live['id']}")
    assert r.status_code == 404 and "not in the trash" in r.json()["detail"]
    r = alice.delete(f"/api/v1/trash/folders/{folder}")
    assert r.status_code == 404 and "not in the trash" in r.json()["detail"]
    assert alice.delete("/api/v1/trash/folders/nonsense").status_code == 404
    assert alice.get(f"/api/v1/files/{live['id']}/content").content == b"live"
    assert _used(alice) == 4


def _names(http: httpx.Client, folder: str) -> list[str]:
    return sorted(
        f["name"] for f in http.get("/api/v1/files", params={"folder": folder}).json()["files"]
    )


def test_a_folder_restored_where_its_path_is_taken_again_joins_the_live_folder(alice):
    trip = _trip(alice)
    upload_bytes(alice, {}, b"new", "new.txt", "Trip")
    taken = _folder_id(alice, "Trip")

    assert alice.post(f"/api/v1/folders/{trip}/restore").json() == {"files": 3}

    assert alice.get("/api/v1/trash/folders").json()["folders"] == []
    assert _names(alice, "Trip") == ["a.txt", "b.txt", "new.txt"]
    assert _names(alice, "Trip/Day 1") == ["c.txt"]
    live = alice.get("/api/v1/folders", params={"parent": ""}).json()["folders"]
    assert [(f["id"], f["path"]) for f in live] == [(taken, "Trip")]  # one folder, not two
    assert _used(alice) == 9


def test_a_folder_is_not_restored_over_a_live_file_of_the_same_name(alice):
    trip = _trip(alice)
    clash = upload_bytes(alice, {}, b"other b", "b.txt", "Trip")

    r = alice.post(f"/api/v1/folders/{trip}/restore")

    assert r.status_code == 409
    assert r.json()["detail"] == "there is a file named 'b.txt' in 'Trip' again; rename it first"
    assert [e["id"] for e in alice.get("/api/v1/trash/folders").json()["folders"]] == [trip]
    assert _names(alice, "Trip") == ["b.txt"]  # nothing changed
    assert alice.get("/api/v1/folders", params={"parent": "Trip"}).json()["folders"] == []
    assert alice.patch(f"/api/v1/files/{clash['id']}", json={"name": "b2.txt"}).status_code == 200
    assert alice.post(f"/api/v1/folders/{trip}/restore").json() == {"files": 3}
    assert _names(alice, "Trip") == ["a.txt", "b.txt", "b2.txt"]


def test_files_of_a_deleted_folder_come_back_one_by_one_and_the_rest_follows(alice):
    early = upload_bytes(alice, {}, b"early", "early.txt", "Trip/Day 1")
    alice.delete(f"/api/v1/files/{early['id']}")  # deleted on its own, before the folder
    trip = _trip(alice)
    inside = alice.get(f"/api/v1/trash/folders/{trip}/files").json()["files"]
    c_txt = next(f for f in inside if f["name"] == "c.txt")

    back = alice.post(f"/api/v1/files/{c_txt['id']}/restore")

    assert back.status_code == 200 and back.json()["folder"] == "Trip/Day 1"
    assert _names(alice, "Trip/Day 1") == ["c.txt"]
    entries = alice.get("/api/v1/trash/folders").json()["folders"]
    assert [(e["id"], e["files"], e["size"]) for e in entries] == [(trip, 2, 3)]
    left = alice.get(f"/api/v1/trash/folders/{trip}/files").json()["files"]
    assert sorted(f["name"] for f in left) == ["a.txt", "b.txt"]

    assert alice.post(f"/api/v1/folders/{trip}/restore").json() == {"files": 2}
    assert _names(alice, "Trip") == ["a.txt", "b.txt"]
    assert _names(alice, "Trip/Day 1") == ["c.txt"]
    paths = [
        f["path"] for f in alice.get("/api/v1/folders", params={"parent": "Trip"}).json()["folders"]
    ]
    assert paths == ["Trip/Day 1"]
    # The file deleted on its own is still in the trash, and comes back into the live folder.
    trashed = alice.get("/api/v1/files", params={"trashed": "true"}).json()["files"]
    assert [f["name"] for f in trashed] == ["early.txt"]
    assert alice.post(f"/api/v1/files/{early['id']}/restore").json()["folder"] == "Trip/Day 1"
    assert _names(alice, "Trip/Day 1") == ["c.txt", "early.txt"]


def test_emptying_the_trash_takes_the_deleted_folders_too(alice):
    _trip(alice)
    loose = upload_bytes(alice, {}, b"loose", "loose.txt")
    alice.delete(f"/api/v1/files/{loose['id']}")
    assert alice.delete("/api/v1/trash").json() == {"emptied": 4}
    assert alice.get("/api/v1/trash/folders").json()["folders"] == []
    assert alice.get("/api/v1/files", params={"trashed": "true"}).json()["files"] == []
    assert _used(alice) == 0


def test_another_account_cannot_see_or_delete_what_is_in_the_trash(runtime, server, alice):
    trip = _trip(alice)
    diary = upload_bytes(alice, {}, b"secret diary", "diary.txt")
    alice.delete(f"/api/v1/files/{diary['id']}")
    with _client(runtime, server, "bob") as bob:
        assert bob.get("/api/v1/trash/folders").json()["folders"] == []
        for path in (f"/api/v1/trash/folders/{trip}", f"/api/v1/trash/files/{diary['id']}"):
            r = bob.delete(path)
            assert r.status_code == 404, (path, r.text)
            assert "Trip" not in r.text and "diary" not in r.text
        assert bob.delete("/api/v1/trash").json() == {"emptied": 0}
    assert [e["files"] for e in alice.get("/api/v1/trash/folders").json()["folders"]] == [3]
    assert alice.post(f"/api/v1/files/{diary['id']}/restore").status_code == 200
    assert _used(alice) == 6 + 12


def test_a_folder_made_again_and_deleted_in_the_same_millisecond_stays_apart(alice):
    trip = _trip(alice)  # the test clock stands still: everything happens at one instant
    again = alice.post("/api/v1/folders", json={"path": "Trip"}).json()["id"]
    alice.delete(f"/api/v1/folders/{again}")
    entries = alice.get("/api/v1/trash/folders").json()["folders"]
    assert sorted((e["id"], e["files"]) for e in entries) == sorted([(trip, 3), (again, 0)])
    assert alice.post(f"/api/v1/folders/{trip}/restore").json() == {"files": 3}
    assert [e["id"] for e in alice.get("/api/v1/trash/folders").json()["folders"]] == [again]
    # The empty one joins the live "Trip": nothing of the other is taken with it.
    assert alice.post(f"/api/v1/folders/{again}/restore").json() == {"files": 0}
    assert alice.get("/api/v1/trash/folders").json()["folders"] == []
    assert alice.delete(f"/api/v1/trash/folders/{again}").status_code == 404
    assert _names(alice, "Trip") == ["a.txt", "b.txt"]
    assert _names(alice, "Trip/Day 1") == ["c.txt"]


def test_a_deleted_folder_opens_to_what_was_deleted_with_it(runtime, server, alice):
    loose = upload_bytes(alice, {}, b"loose", "loose.txt", "Trip")
    alice.delete(f"/api/v1/files/{loose['id']}")  # deleted on its own before the folder
    trip = _trip(alice)
    listed = alice.get(f"/api/v1/trash/folders/{trip}/files").json()
    assert [(f["name"], f["folder"], f["size"]) for f in listed["files"]] == [
        ("a.txt", "Trip", 1),
        ("b.txt", "Trip", 2),
        ("c.txt", "Trip/Day 1", 3),
    ]
    assert listed["cursor"] is None
    first = alice.get(f"/api/v1/trash/folders/{trip}/files", params={"limit": 2}).json()
    rest = alice.get(
        f"/api/v1/trash/folders/{trip}/files", params={"limit": 2, "cursor": first["cursor"]}
    ).json()
    assert [f["name"] for f in first["files"] + rest["files"]] == ["a.txt", "b.txt", "c.txt"]

    with httpx.Client(base_url=server.url, timeout=60) as browser:
        browser_login(browser)
        page = browser.get(f"/locker/trash/folders/{trip}")
        assert page.status_code == 200 and "c.txt" in page.text and "loose.txt" not in page.text
        assert f'href="/locker/trash/folders/{trip}"' in browser.get("/locker/trash").text

    with _client(runtime, server, "bob") as bob, httpx.Client(base_url=server.url) as browser:
        browser_login(browser, "bob")
        for http, path in (
            (bob, f"/api/v1/trash/folders/{trip}/files"),
            (browser, f"/locker/trash/folders/{trip}"),
        ):
            r = http.get(path)
            assert r.status_code == 404, (path, r.text)
            assert "a.txt" not in r.text and "Trip" not in r.text
    alice.post(f"/api/v1/folders/{trip}/restore")
    assert alice.get(f"/api/v1/trash/folders/{trip}/files").status_code == 404  # not in the trash
    assert alice.get("/api/v1/trash/folders/x1/files").status_code == 404
