"""Uploading files with the client: against a real server on loopback."""

from __future__ import annotations

import os

from strongroom.client import Client
from strongroom.client.uploads import WITH_CREATION, download, put_file
from tests.factories import PASSWORD, make_user, tus_create

MiB = 1024 * 1024


def _client(server_url: str) -> tuple[Client, list[tuple[str, str]]]:
    """A registered device's client, and the list it records each request in."""
    client = Client.register(server_url, "alice", PASSWORD, name="laptop", platform="linux")
    seen: list[tuple[str, str]] = []
    client.http.event_hooks["request"] = [lambda r: seen.append((r.method, r.url.path))]
    return client, seen


def _read_back(client: Client, file_id: str, tmp_path) -> bytes:
    out = tmp_path / "back"
    with out.open("wb") as f:
        download(client, file_id, f)
    return out.read_bytes()


def test_a_small_file_goes_with_the_request_that_creates_its_upload(runtime, server, tmp_path):
    make_user(runtime)
    client, seen = _client(server.url)
    data = os.urandom(3 * MiB + 5)
    (tmp_path / "photo.jpg").write_bytes(data)
    remembered: list[str] = []

    done = put_file(client, tmp_path / "photo.jpg", folder="Phone", remember=remembered.append)

    assert not done.by_hash and done.sent_bytes == len(data)
    assert [m for m, _ in seen] == ["POST", "POST"]  # by hash, then create with the bytes
    assert remembered and remembered[0].startswith("/api/v1/uploads/")
    assert _read_back(client, done.file_id, tmp_path) == data
    client.close()


def test_a_large_file_gets_its_upload_first_so_it_can_resume(runtime, server, tmp_path):
    make_user(runtime)
    client, seen = _client(server.url)
    data = os.urandom(WITH_CREATION + 7)
    (tmp_path / "video.mp4").write_bytes(data)
    remembered: list[str] = []

    def remember(url: str) -> None:
        remembered.append(url)
        assert [m for m, _ in seen] == ["POST", "POST"]  # known before any byte is sent

    done = put_file(client, tmp_path / "video.mp4", folder="Phone", remember=remember)

    assert [m for m, _ in seen] == ["POST", "POST", "PATCH"]
    assert len(remembered) == 1
    assert _read_back(client, done.file_id, tmp_path) == data
    client.close()


def test_a_resumed_upload_sends_only_the_rest_and_hashes_the_whole_file(runtime, server, tmp_path):
    import hashlib

    from strongroom.client.uploads import upload

    make_user(runtime)
    client, seen = _client(server.url)
    data = os.urandom(WITH_CREATION + 3 * MiB)
    (tmp_path / "video.mp4").write_bytes(data)
    url = tus_create(client.http, len(data), filename="video.mp4")
    first = 5 * MiB + 3
    r = client.http.patch(
        url,
        content=data[:first],
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert r.status_code == 204

    file_id, sha256, sent = upload(
        client, tmp_path / "video.mp4", folder="", name="video.mp4", resume_url=url
    )

    assert sent == len(data) - first
    assert sha256 == hashlib.sha256(data).hexdigest()
    assert _read_back(client, file_id, tmp_path) == data
    client.close()
