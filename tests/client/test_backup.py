"""Backing up a folder with the client: against a real server on loopback."""

from __future__ import annotations

import hashlib
import os

from strongroom.client import Client
from strongroom.client.backup import backup
from strongroom.client.state import BackupState
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
