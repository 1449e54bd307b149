"""The locker's files over HTTP: categories, dedup, by-hash, ranges, zips, trash, versions."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from strongroom.content.models import Chunk
from tests.factories import make_user, register_device, tus_create, tus_post, upload_bytes

MiB = 1024 * 1024


@pytest.fixture
def alice(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        device = register_device(http)
        http.headers.update(device.headers)
        yield http


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 10)).save(out, "JPEG")
    return out.getvalue()


def _stored_chunks(rt) -> tuple[int, int]:
    with rt.db.read() as s:
        count, size = s.execute(select(func.count(), func.coalesce(func.sum(Chunk.size), 0))).one()
    return int(count), int(size)


def test_files_land_in_their_categories_and_folders(runtime, alice):
    upload_bytes(alice, {}, _jpeg(), "cat.jpg", "Photos/2024")
    upload_bytes(alice, {}, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "report.pdf", "Work")
    upload_bytes(alice, {}, b"ID3\x04\x00\x00\x00\x00\x00\x00" + os.urandom(200), "song.mp3")
    upload_bytes(alice, {}, b"just some notes\n", "notes.txt", "Work")
    photos = alice.get("/api/v1/files", params={"category": "photos"}).json()["files"]
    assert [(f["name"], f["folder"], f["content_type"]) for f in photos] == [
        ("cat.jpg", "Photos/2024", "image/jpeg")
    ]
    docs = alice.get(
        "/api/v1/files", params={"category": "documents", "sort": "name", "order": "asc"}
    ).json()["files"]
    assert [f["name"] for f in docs] == ["notes.txt", "report.pdf"]
    assert (
        alice.get("/api/v1/files", params={"category": "music"}).json()["files"][0]["name"]
        == "song.mp3"
    )
    work = alice.get("/api/v1/files", params={"folder": "Work"}).json()["files"]
    assert {f["name"] for f in work} == {"notes.txt", "report.pdf"}
    folders = alice.get("/api/v1/folders").json()["folders"]
    assert [f["path"] for f in folders] == ["Photos", "Work"]
    usage = alice.get("/api/v1/usage").json()
    assert usage["by_category"]["photos"] == len(_jpeg())
    assert usage["used_bytes"] == sum(usage["by_category"].values())


def test_paging_by_cursor(runtime, alice):
    for i in range(7):
        upload_bytes(alice, {}, f"file {i}".encode(), f"f{i}.txt")
    seen, cursor = [], None
    while True:
        params = {"sort": "name", "order": "asc", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = alice.get("/api/v1/files", params=params).json()
        seen += [f["name"] for f in page["files"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert seen == [f"f{i}.txt" for i in range(7)]
    assert alice.get("/api/v1/files", params={"cursor": "garbage"}).status_code == 400


def test_the_same_content_twice_is_stored_once(runtime, alice):
    data = os.urandom(3 * MiB)
    upload_bytes(alice, {}, data, "a.bin")
    before = _stored_chunks(runtime)
    upload_bytes(alice, {}, data, "copy of a.bin", "Elsewhere")
    assert _stored_chunks(runtime) == before
    assert alice.get("/api/v1/usage").json()["by_category"]["other"] == 2 * len(data)


def test_a_1mib_edit_inside_a_40mib_file_stores_under_3mib_more(runtime, alice):
    video = bytearray(os.urandom(40 * MiB))
    upload_bytes(alice, {}, bytes(video), "clip.mp4")
    _, before = _stored_chunks(runtime)
    video[20 * MiB : 21 * MiB] = os.urandom(MiB)
    stored = upload_bytes(alice, {}, bytes(video), "clip.mp4")
    _, after = _stored_chunks(runtime)
    assert 0 < after - before < 3 * MiB
    versions = alice.get(f"/api/v1/files/{stored['id']}/versions").json()["versions"]
    assert len(versions) == 2 and versions[0]["sha256"] == hashlib.sha256(video).hexdigest()


def test_upload_by_hash_needs_no_bytes(runtime, alice):
    data = os.urandom(MiB + 5)
    upload_bytes(alice, {}, data, "original.bin")
    body = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "filename": "again.bin",
        "folder": "Backups",
    }
    r = alice.post("/api/v1/files/by-hash", json=body)
    assert r.status_code == 201 and r.json()["folder"] == "Backups"
    assert alice.get(f"/api/v1/files/{r.json()['id']}/content").content == data
    unknown = {**body, "sha256": hashlib.sha256(b"never stored").hexdigest()}
    assert alice.post("/api/v1/files/by-hash", json=unknown).status_code == 404


def test_many_files_by_hash_in_one_request_null_for_bytes_not_stored(runtime, alice):
    note, photo = b"a small note\n" * 40, _jpeg()
    for data, name in ((note, "note.txt"), (photo, "photo.jpg")):
        upload_bytes(alice, {}, data, name)
    asked = [
        (note, "Laptop/Docs", "note.txt", 1_700_000_000.5),
        (b"never stored", "Laptop/Docs", "new.txt", None),
        (photo, "Laptop/Pictures", "copy.jpg", None),
        (note, "", "note.txt", None),  # where it already is: the same bytes add nothing
    ]
    body = {
        "files": [
            {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d), "folder": folder}
            | {"filename": name, "mtime": mtime}
            for d, folder, name, mtime in asked
        ]
    }
    r = alice.post("/api/v1/files/by-hash/batch", json=body)

    assert r.status_code == 200
    made = r.json()["files"]
    assert made[1] is None
    assert [(m["folder"], m["name"]) for m in (made[0], made[2], made[3])] == [
        ("Laptop/Docs", "note.txt"),
        ("Laptop/Pictures", "copy.jpg"),
        ("", "note.txt"),
    ]
    assert made[2]["category"] == "photos"  # its type told from the stored bytes
    assert alice.get(f"/api/v1/files/{made[2]['id']}/content").content == photo
    assert alice.get(f"/api/v1/files/{made[0]['id']}/content").content == note
    listed = alice.get("/api/v1/files", params={"folder": "Laptop/Docs"}).json()["files"]
    assert [f["name"] for f in listed] == ["note.txt"]
    wrong_size = {**body["files"][0], "size": len(note) + 1}
    again = alice.post("/api/v1/files/by-hash/batch", json={"files": [wrong_size]})
    assert again.json() == {"files": [None]}
    for bad in ({"files": []}, {"files": [{**wrong_size, "filename": "../x"}]}, {"x": 1}):
        refused = alice.post("/api/v1/files/by-hash/batch", json=bad)
        assert refused.status_code in (400, 422), bad
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_a_finished_upload_says_the_hash_of_what_was_stored(runtime, alice):
    whole = os.urandom(MiB + 11)
    r = tus_post(alice, whole, filename="whole.bin")
    assert r.status_code == 201
    assert r.headers["strongroom-file-sha256"] == hashlib.sha256(whole).hexdigest()

    parts = os.urandom(2 * MiB + 3)
    tus = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
    url = tus_create(alice, len(parts), filename="parts.bin")
    half = alice.patch(url, content=parts[:MiB], headers={**tus, "Upload-Offset": "0"})
    assert half.status_code == 204 and "strongroom-file-sha256" not in half.headers
    done = alice.patch(url, content=parts[MiB:], headers={**tus, "Upload-Offset": str(MiB)})
    assert done.status_code == 204
    assert done.headers["strongroom-file-sha256"] == hashlib.sha256(parts).hexdigest()
    # the next upload may go to another server process (see web/api/uploads.py)
    assert done.headers["connection"] == "close" and half.headers.get("connection") != "close"
    stored = alice.get(f"/api/v1/files/{done.headers['strongroom-file-id']}").json()
    assert stored["sha256"] == done.headers["strongroom-file-sha256"]


def test_sizes_says_which_sizes_the_account_stores_and_nothing_of_others(runtime, server, alice):
    first, second = os.urandom(MiB + 1), os.urandom(300)
    upload_bytes(alice, {}, first, "a.bin")
    upload_bytes(alice, {}, second, "b.bin", "Elsewhere")
    asked = [len(first), 77, len(second), len(first), 0]

    r = alice.post("/api/v1/files/sizes", json={"sizes": asked})

    assert r.status_code == 200 and r.json() == {"sizes": sorted([len(second), len(first)])}
    too_many = alice.post("/api/v1/files/sizes", json={"sizes": list(range(10_001))})
    assert too_many.status_code == 422
    assert too_many.headers["content-type"].startswith("application/problem+json")
    negative = alice.post("/api/v1/files/sizes", json={"sizes": [-1]})
    assert negative.status_code in (400, 422)
    assert negative.headers["content-type"].startswith("application/problem+json")
    make_user(runtime, "bob")
    with httpx.Client(base_url=server.url) as bob:
        bob.headers.update(register_device(bob, "bob").headers)
        assert bob.post("/api/v1/files/sizes", json={"sizes": asked}).json() == {"sizes": []}
    assert httpx.post(f"{server.url}/api/v1/files/sizes", json={"sizes": [1]}).status_code == 401


def test_ranges_etags_and_headers(runtime, alice):
    data = os.urandom(2 * MiB + 100)
    stored = upload_bytes(alice, {}, data, "movie.mp4", mtime="1700000000")
    url = f"/api/v1/files/{stored['id']}/content"
    whole = alice.get(url)
    assert whole.content == data and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["last-modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert 'filename="movie.mp4"' in whole.headers["content-disposition"]
    part = alice.get(url, headers={"Range": "bytes=1048000-1049999"})
    assert part.status_code == 206 and part.content == data[1048000:1050000]
    tail = alice.get(url, headers={"Range": "bytes=-10"})
    assert tail.content == data[-10:]
    assert alice.get(url, headers={"If-None-Match": whole.headers["etag"]}).status_code == 304
    assert alice.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416


def test_a_folder_downloads_as_a_streamed_zip(runtime, alice):
    upload_bytes(alice, {}, b"one", "a.txt", "Trip")
    upload_bytes(alice, {}, b"two", "b.txt", "Trip/Day 2")
    upload_bytes(alice, {}, b"not this", "c.txt", "Other")
    r = alice.post("/api/v1/files/zip", json={"folder": "Trip"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert archive.testzip() is None
    assert {n: archive.read(n) for n in archive.namelist()} == {
        "a.txt": b"one",
        "Day 2/b.txt": b"two",
    }


def test_files_and_folders_chosen_together_download_as_one_zip(runtime, alice):
    upload_bytes(alice, {}, b"one", "a.txt", "Trip")
    upload_bytes(alice, {}, b"two", "b.txt", "Trip/Day 2")
    upload_bytes(alice, {}, b"three", "a.txt", "Work/2024")
    loose = upload_bytes(alice, {}, b"loose", "notes.txt", "Other")
    upload_bytes(alice, {}, b"not this", "c.txt", "Other")

    r = alice.post(
        "/api/v1/files/zip", json={"folders": ["Trip", "Work/2024"], "ids": [loose["id"]]}
    )

    assert r.status_code == 200 and 'filename="Files.zip"' in r.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert {n: archive.read(n) for n in archive.namelist()} == {
        "Trip/a.txt": b"one",
        "Trip/Day 2/b.txt": b"two",
        "2024/a.txt": b"three",
        "notes.txt": b"loose",
    }
    missing = alice.post("/api/v1/files/zip", json={"folders": ["Trip", "Nowhere"]})
    assert missing.status_code == 404 and "Nowhere" in missing.json()["detail"]


def test_rename_move_copy_trash_restore_and_versions(runtime, alice):
    f = upload_bytes(alice, {}, b"version 1", "draft.txt", "Docs")
    fid = f["id"]
    r = alice.patch(f"/api/v1/files/{fid}", json={"name": "final.txt", "folder": "Docs/Done"})
    assert r.json()["name"] == "final.txt" and r.json()["folder"] == "Docs/Done"
    upload_bytes(alice, {}, b"other", "taken.txt", "Docs/Done")
    assert alice.patch(f"/api/v1/files/{fid}", json={"name": "taken.txt"}).status_code == 409
    copy = alice.post(f"/api/v1/files/{fid}/copy", json={"folder": "Archive"}).json()
    assert alice.get(f"/api/v1/files/{copy['id']}/content").content == b"version 1"
    upload_bytes(alice, {}, b"version 2", "final.txt", "Docs/Done")
    versions = alice.get(f"/api/v1/files/{fid}/versions").json()["versions"]
    restored = alice.post(f"/api/v1/files/{fid}/versions/{versions[-1]['id']}/restore").json()
    assert alice.get(f"/api/v1/files/{restored['id']}/content").content == b"version 1"
    assert alice.delete(f"/api/v1/files/{fid}").status_code == 204
    assert alice.get(f"/api/v1/files/{fid}/content").status_code == 200  # still readable in trash
    assert [
        x["name"] for x in alice.get("/api/v1/files", params={"trashed": "true"}).json()["files"]
    ] == ["final.txt"]
    assert alice.post(f"/api/v1/files/{fid}/restore").json()["trashed_at"] is None
    alice.delete(f"/api/v1/files/{fid}")
    assert alice.delete("/api/v1/trash").json()["emptied"] == 1
    assert alice.get(f"/api/v1/files/{fid}").status_code == 404


def test_folders_trash_with_their_files_and_come_back(runtime, alice):
    upload_bytes(alice, {}, b"x", "x.txt", "Old/Inner")
    folder = next(f for f in alice.get("/api/v1/folders").json()["folders"] if f["path"] == "Old")
    assert alice.delete(f"/api/v1/folders/{folder['id']}").status_code == 204
    assert alice.get("/api/v1/files", params={"folder": "Old/Inner"}).status_code == 404
    assert alice.post(f"/api/v1/folders/{folder['id']}/restore").json()["files"] == 1
    assert len(alice.get("/api/v1/files", params={"folder": "Old/Inner"}).json()["files"]) == 1
    r = alice.patch(f"/api/v1/folders/{folder['id']}", json={"path": "New"})
    assert r.json()["path"] == "New"
    assert len(alice.get("/api/v1/files", params={"folder": "New/Inner"}).json()["files"]) == 1
    assert (
        alice.patch(f"/api/v1/folders/{folder['id']}", json={"path": "New/Inner/x"}).status_code
        == 409
    )


def test_hostile_names_are_refused(runtime, alice):
    for name, folder in [
        ("../../etc/passwd", ""),
        ("ok.txt", "../outside"),
        ("a\x00b", ""),
        ("..", ""),
        ("ok.txt", "/abs/../x"),
    ]:
        r = alice.post(
            "/api/v1/uploads",
            headers={
                "Tus-Resumable": "1.0.0",
                "Upload-Length": "2",
                "Upload-Metadata": __import__("tests.factories", fromlist=["x"]).tus_metadata(
                    filename=name, folder=folder
                ),
                "Content-Type": "application/offset+octet-stream",
            },
            content=b"hi",
        )
        assert r.status_code == 400, (name, folder, r.text)
    assert alice.get("/api/v1/files").json()["files"] == []


def test_changes_feed_for_files(runtime, alice):
    first = alice.get("/api/v1/files/changes").json()
    f = upload_bytes(alice, {}, b"x", "x.txt")
    changed = alice.get("/api/v1/files/changes", params={"since": first["new_state"]}).json()
    assert changed["created"] == [f["id"]]
    alice.delete(f"/api/v1/files/{f['id']}")
    gone = alice.get("/api/v1/files/changes", params={"since": changed["new_state"]}).json()
    assert gone["destroyed"] == [f["id"]]


def test_many_small_files_in_one_request(runtime, alice):
    manifest = [
        {"name": f"n{i}.txt", "folder": f"Notes/{i % 3}", "mtime": 1700000000 + i}
        for i in range(30)
    ]
    files = [
        ("file", (m["name"], f"note {i}".encode(), "text/plain")) for i, m in enumerate(manifest)
    ]
    r = alice.post(
        "/api/v1/files/batch", data={"manifest": __import__("json").dumps(manifest)}, files=files
    )
    assert r.status_code == 201, r.text
    stored = r.json()["files"]
    assert [f["name"] for f in stored] == [m["name"] for m in manifest]
    assert alice.get(f"/api/v1/files/{stored[7]['id']}/content").content == b"note 7"
    assert stored[7]["modified_at"] == 1700000007000 and stored[7]["folder"] == "Notes/1"
    # a bad name anywhere refuses the whole batch
    bad = [{"name": "ok.txt"}, {"name": "../escape"}]
    r = alice.post(
        "/api/v1/files/batch",
        data={"manifest": __import__("json").dumps(bad)},
        files=[("file", ("a", b"a", "text/plain")), ("file", ("b", b"b", "text/plain"))],
    )
    assert r.status_code == 400
    assert alice.get("/api/v1/files", params={"folder": ""}).json()["files"] == []
    r = alice.post("/api/v1/files/batch", data={"manifest": "[{}]"}, files=[])
    assert r.status_code == 400
