"""Backing up a folder with the client: against a real server on loopback."""

from __future__ import annotations

import hashlib
import json
import os

from strongroom.client import Client
from strongroom.client.backup import backup, scan
from strongroom.client.state import BackupState
from strongroom.client.uploads import put_file
from tests.factories import PASSWORD, make_user

MiB = 1024 * 1024


def test_a_changed_file_is_sent_without_asking_by_hash_and_remembered_by_its_new_hash(
    runtime, server, tmp_path
):
    make_user(runtime)
    client = Client.register(server.url, "alice", PASSWORD, name="laptop", platform="linux")
    seen: list[tuple[str, str]] = []
    client.http.event_hooks["request"] = [lambda r: seen.append((r.method, r.url.path))]
    folder = tmp_path / "Videos"
    folder.mkdir()
    video = folder / "clip.mp4"
    video.write_bytes(os.urandom(3 * MiB))
    (folder / "copy.mp4").write_bytes(video.read_bytes())
    state = BackupState(tmp_path / "state.db")

    first = backup(client, [folder], folder="Backup", state=state, workers=1)
    assert (first.uploaded, first.by_hash) == (1, 1)  # the copy's bytes were already there

    edited = bytearray(video.read_bytes())
    edited[MiB : MiB + 100] = os.urandom(100)
    video.write_bytes(bytes(edited))
    seen.clear()
    second = backup(client, [folder], folder="Backup", state=state, workers=1)

    assert (second.uploaded, second.unchanged) == (1, 1)
    assert ("POST", "/api/v1/files/by-hash") not in seen
    st = video.stat()
    known = state.unchanged(video, st.st_size, st.st_mtime_ns, st.st_ino, "Backup/Videos/clip.mp4")
    assert known is not None and known.sha256 == hashlib.sha256(edited).hexdigest()
    r = client.http.get(f"/api/v1/files/{known.file_id}/content")
    assert r.content == bytes(edited)
    state.close()
    client.close()


def test_a_first_backup_asks_by_hash_only_for_files_that_could_be_stored_already(
    runtime, server, tmp_path
):
    make_user(runtime)
    client = Client.register(server.url, "alice", PASSWORD, name="laptop", platform="linux")
    folder = tmp_path / "Camera"
    folder.mkdir()
    stored_before = os.urandom(2 * MiB + 1)
    (tmp_path / "elsewhere.bin").write_bytes(stored_before)
    put_file(client, tmp_path / "elsewhere.bin", folder="Old")
    alone, twin = os.urandom(3 * MiB + 7), os.urandom(4 * MiB)
    (folder / "alone.jpg").write_bytes(alone)  # a size stored nowhere, nor twice here
    (folder / "twin1.jpg").write_bytes(twin)
    (folder / "twin2.jpg").write_bytes(twin)  # the same size twice here: may be the same bytes
    (folder / "same_size.jpg").write_bytes(os.urandom(len(stored_before)))  # a stored size
    hashed: list[str] = []
    client.http.event_hooks["request"] = [
        lambda r: (
            hashed.append(json.loads(r.content)["filename"])
            if r.url.path == "/api/v1/files/by-hash"
            else None
        )
    ]
    state = BackupState(tmp_path / "state.db")

    report = backup(client, [folder], folder="", state=state, workers=1)

    assert sorted(hashed) == ["same_size.jpg", "twin1.jpg", "twin2.jpg"]
    assert (report.uploaded, report.by_hash) == (3, 1)
    for name, data in (("alone.jpg", alone), ("twin2.jpg", twin)):
        st = (folder / name).stat()
        known = state.unchanged(
            folder / name, st.st_size, st.st_mtime_ns, st.st_ino, f"Camera/{name}"
        )
        assert known is not None and known.sha256 == hashlib.sha256(data).hexdigest()
        assert client.http.get(f"/api/v1/files/{known.file_id}/content").content == data
    state.close()
    client.close()


def test_a_second_device_sends_only_hashes_for_small_files_the_first_stored(
    runtime, server, tmp_path
):
    make_user(runtime)
    laptop = Client.register(server.url, "alice", PASSWORD, name="laptop", platform="linux")
    phone = Client.register(server.url, "alice", PASSWORD, name="phone", platform="android")
    docs = tmp_path / "Docs"
    docs.mkdir()
    notes = {f"note{i}.txt": os.urandom(1000 + i) for i in range(6)}
    for name, data in notes.items():
        (docs / name).write_bytes(data)
    first = backup(laptop, [docs], folder="", state=BackupState(tmp_path / "laptop.db"))
    assert (first.uploaded, first.by_hash) == (6, 0)

    (docs / "new.txt").write_bytes(os.urandom(999))  # a size the account stores nothing of
    (docs / "same_size.txt").write_bytes(os.urandom(1003))  # a stored size, other bytes
    seen: list[tuple[str, str]] = []
    phone.http.event_hooks["request"] = [lambda r: seen.append((r.method, r.url.path))]
    state = BackupState(tmp_path / "phone.db")

    second = backup(phone, [docs], folder="Phone", state=state, workers=1)

    assert (second.uploaded, second.by_hash) == (2, 6)
    assert second.sent_bytes == 999 + 1003
    assert seen.count(("POST", "/api/v1/files/by-hash/batch")) == 1
    assert seen.count(("POST", "/api/v1/files/batch")) == 1
    assert ("POST", "/api/v1/files/by-hash") not in seen  # not one request per file
    for name in [*notes, "new.txt", "same_size.txt"]:
        st = (docs / name).stat()
        known = state.unchanged(
            docs / name, st.st_size, st.st_mtime_ns, st.st_ino, f"Phone/Docs/{name}"
        )
        data = (docs / name).read_bytes()
        assert known is not None and known.sha256 == hashlib.sha256(data).hexdigest()
        assert phone.http.get(f"/api/v1/files/{known.file_id}/content").content == data
    state.close()
    laptop.close()
    phone.close()


def test_scan_walks_each_folder_once_files_before_subfolders_and_skips_links(tmp_path):
    root = tmp_path / "Docs"
    (root / "b").mkdir(parents=True)
    (root / "a").mkdir()
    (root / "z.txt").write_bytes(b"z" * 3)
    (root / "b" / "y.txt").write_bytes(b"y" * 5)
    (root / "a" / "x.txt").write_bytes(b"x")
    (root / "link.txt").symlink_to(root / "z.txt")
    (root / "a" / "loop").symlink_to(root)

    entries = scan([root], "Backup/")

    assert [(e.remote, e.size) for e in entries] == [
        ("Backup/Docs/z.txt", 3),
        ("Backup/Docs/a/x.txt", 1),
        ("Backup/Docs/b/y.txt", 5),
    ]
    st = (root / "b" / "y.txt").stat()
    assert (entries[2].mtime_ns, entries[2].inode) == (st.st_mtime_ns, st.st_ino)
    assert [e.remote for e in scan([root / "z.txt"], "")] == ["z.txt"]


def test_an_unchanged_backup_sends_nothing_and_reads_the_state_once(runtime, server, tmp_path):
    make_user(runtime)
    client = Client.register(server.url, "alice", PASSWORD, name="laptop", platform="linux")
    folder = tmp_path / "Mixed"
    folder.mkdir()
    (folder / "big.bin").write_bytes(os.urandom(2 * MiB))
    for i in range(5):
        (folder / f"small{i}.txt").write_bytes(os.urandom(100 + i))
    state = BackupState(tmp_path / "state.db")
    first = backup(client, [folder], folder="", state=state, workers=2)
    assert (first.files, first.uploaded) == (6, 6)

    seen: list[str] = []
    client.http.event_hooks["request"] = [lambda r: seen.append(r.url.path)]
    queries: list[str] = []
    state._db.set_trace_callback(queries.append)
    again = backup(client, [folder], folder="", state=state, workers=2)

    assert (again.files, again.unchanged, again.uploaded) == (6, 6, 0)
    assert seen == []
    assert len([q for q in queries if q.startswith("SELECT")]) == 1
    state.close()
    client.close()
