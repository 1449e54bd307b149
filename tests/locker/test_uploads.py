"""Resumable uploads with the tus protocol, over a real server, with a standard tus client."""

from __future__ import annotations

import base64
import hashlib
import io
import os

import httpx
import pytest
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from strongroom.runtime import open_runtime
from tests.factories import make_user, register_device, tus_create, tus_metadata, upload_bytes
from tests.servers import start_app_server

MiB = 1024 * 1024


def _tus(server_url: str, token: str) -> tus_client.TusClient:
    return tus_client.TusClient(
        f"{server_url}/api/v1/uploads", headers={"Authorization": f"Bearer {token}"}
    )


def test_options_discovery(runtime, http):
    r = http.options("/api/v1/uploads")
    assert r.status_code == 204
    assert r.headers["tus-version"] == "1.0.0"
    assert set(r.headers["tus-extension"].split(",")) >= {
        "creation",
        "creation-with-upload",
        "expiration",
        "checksum",
        "termination",
    }
    assert "sha256" in r.headers["tus-checksum-algorithm"]


def test_an_upload_interrupted_half_way_resumes_with_tuspy(runtime, server, tmp_path):
    make_user(runtime)
    with httpx.Client(base_url=server.url) as http:
        device = register_device(http)
    data = os.urandom(7 * MiB + 12345)
    tus = _tus(server.url, device.token)
    first = tus.uploader(
        file_stream=io.BytesIO(data),
        chunk_size=MiB,
        metadata={"filename": "holiday.mov", "folder": "Videos/2024"},
    )
    first.upload(stop_at=len(data) // 2)
    assert 0 < first.offset < len(data)
    # a fresh client (the app restarted) resumes from the server's offset
    second = tus.uploader(
        file_stream=io.BytesIO(data),
        chunk_size=MiB,
        url=first.url,
        metadata={"filename": "holiday.mov", "folder": "Videos/2024"},
    )
    assert second.get_offset() == first.offset
    second.upload()
    with httpx.Client(base_url=server.url, headers=device.headers) as http:
        found = http.get("/api/v1/files", params={"folder": "Videos/2024"}).json()["files"]
        assert [f["name"] for f in found] == ["holiday.mov"]
        assert found[0]["sha256"] == hashlib.sha256(data).hexdigest()
        got = http.get(f"/api/v1/files/{found[0]['id']}/content")
        assert hashlib.sha256(got.content).hexdigest() == hashlib.sha256(data).hexdigest()


def test_partial_uploads_survive_a_server_restart(tmp_path, db_url):
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data", db_url)
    data = os.urandom(3 * MiB + 17)
    rt = open_runtime(settings)
    make_user(rt)
    with start_app_server(rt) as live, httpx.Client(base_url=live.url) as http:
        device = register_device(http)
        location = tus_create(http, len(data), device.headers, filename="big.bin")
        r = http.patch(
            location,
            content=data[: 2 * MiB + 5],
            headers={
                **device.headers,
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert r.status_code == 204 and r.headers["upload-offset"] == str(2 * MiB + 5)
    rt.close()
    rt = open_runtime(settings)  # a new process: nothing in memory
    with (
        start_app_server(rt) as live,
        httpx.Client(base_url=live.url, headers=device.headers) as http,
    ):
        head = http.head(location, headers={"Tus-Resumable": "1.0.0"})
        assert head.headers["upload-offset"] == str(2 * MiB + 5)
        r = http.patch(
            location,
            content=data[2 * MiB + 5 :],
            headers={
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": str(2 * MiB + 5),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert r.status_code == 204
        got = http.get(f"/api/v1/files/{r.headers['strongroom-file-id']}/content").content
        assert got == data
    rt.close()


def test_a_checksum_mismatch_is_refused_and_nothing_is_kept(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url) as http:
        device = register_device(http)
        h = {**device.headers, "Tus-Resumable": "1.0.0"}
        r = http.post(
            "/api/v1/uploads",
            headers={**h, "Upload-Length": "10", "Upload-Metadata": tus_metadata(filename="a")},
        )
        location = r.headers["location"]
        wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
        r = http.patch(
            location,
            content=b"0123456789",
            headers={
                **h,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
                "Upload-Checksum": f"sha256 {wrong}",
            },
        )
        assert r.status_code == 460
        assert http.head(location, headers=h).headers["upload-offset"] == "0"
        right = base64.b64encode(hashlib.sha256(b"0123456789").digest()).decode()
        r = http.patch(
            location,
            content=b"0123456789",
            headers={
                **h,
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
                "Upload-Checksum": f"sha256 {right}",
            },
        )
        assert r.status_code == 204 and r.headers["upload-offset"] == "10"


def test_an_upload_beyond_the_quota_is_refused_before_any_byte(runtime, server):
    make_user(runtime)
    from strongroom.accounts.service import set_quota

    with runtime.db.write() as s:
        set_quota(s, "alice", 5 * MiB)
    with httpx.Client(base_url=server.url) as http:
        device = register_device(http)
        r = http.post(
            "/api/v1/uploads",
            headers={
                **device.headers,
                "Tus-Resumable": "1.0.0",
                "Upload-Length": str(6 * MiB),
                "Upload-Metadata": tus_metadata(filename="too-big.mp4"),
            },
        )
        assert r.status_code == 413
        body = r.json()
        assert body["code"] == "quota-exceeded" and body["free_bytes"] == 5 * MiB
        assert "free" in body["detail"]


def test_protocol_errors(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url) as http:
        device = register_device(http)
        h = device.headers
        assert http.post("/api/v1/uploads", headers={**h, "Upload-Length": "5"}).status_code == 412
        r = http.post(
            "/api/v1/uploads", headers={**h, "Tus-Resumable": "1.0.0", "Upload-Length": "5"}
        )
        assert r.status_code == 400  # no filename
        r = http.post(
            "/api/v1/uploads",
            headers={
                **h,
                "Tus-Resumable": "1.0.0",
                "Upload-Length": "5",
                "Upload-Metadata": tus_metadata(filename="x"),
            },
        )
        location = r.headers["location"]
        t = {**h, "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
        assert (
            http.patch(location, content=b"ab", headers={**t, "Upload-Offset": "3"}).status_code
            == 409
        )
        assert (
            http.patch(
                location, content=b"abcdefg", headers={**t, "Upload-Offset": "0"}
            ).status_code
            == 413
        )
        assert (
            http.patch(
                location,
                content=b"ab",
                headers={**h, "Tus-Resumable": "1.0.0", "Upload-Offset": "0"},
            ).status_code
            == 415
        )
        assert http.delete(location, headers={**h, "Tus-Resumable": "1.0.0"}).status_code == 204
        assert http.head(location, headers={**h, "Tus-Resumable": "1.0.0"}).status_code == 404
        assert (
            http.post(
                "/api/v1/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "1"}
            ).status_code
            == 401
        )


def test_an_upload_of_another_account_is_not_there(runtime, server):
    make_user(runtime, "alice")
    make_user(runtime, "bob")
    with httpx.Client(base_url=server.url) as http:
        alice, bob = register_device(http, "alice"), register_device(http, "bob")
        r = http.post(
            "/api/v1/uploads",
            headers={
                **alice.headers,
                "Tus-Resumable": "1.0.0",
                "Upload-Length": "4",
                "Upload-Metadata": tus_metadata(filename="mine"),
            },
        )
        location = r.headers["location"]
        h = {**bob.headers, "Tus-Resumable": "1.0.0"}
        assert http.head(location, headers=h).status_code == 404
        assert (
            http.patch(
                location,
                content=b"evil",
                headers={
                    **h,
                    "Upload-Offset": "0",
                    "Content-Type": "application/offset+octet-stream",
                },
            ).status_code
            == 404
        )
        assert http.delete(location, headers=h).status_code == 404
        assert http.get(location, headers=bob.headers).status_code == 404


def test_expired_uploads_are_gone(runtime, server, clock):
    make_user(runtime)
    with httpx.Client(base_url=server.url) as http:
        device = register_device(http)
        h = {**device.headers, "Tus-Resumable": "1.0.0"}
        r = http.post(
            "/api/v1/uploads",
            headers={**h, "Upload-Length": "4", "Upload-Metadata": tus_metadata(filename="a")},
        )
        assert "upload-expires" in {k.lower() for k in r.headers}
        clock.advance(days=1.01)
        assert http.head(r.headers["location"], headers=h).status_code == 410


@pytest.mark.s3
def test_upload_and_download_round_trip_on_s3(tmp_path, db_url, s3_endpoint, s3_bucket):
    from tests.conftest import make_settings

    settings = make_settings(
        tmp_path / "data", db_url, blobs=f"s3://{s3_bucket}/vault", s3_endpoint_url=s3_endpoint
    )
    rt = open_runtime(settings)
    make_user(rt)
    data = os.urandom(2 * MiB + 3)
    try:
        with start_app_server(rt) as live, httpx.Client(base_url=live.url) as http:
            device = register_device(http)
            stored = upload_bytes(http, device.headers, data, "s3.bin")
            got = http.get(f"/api/v1/files/{stored['id']}/content", headers=device.headers)
            assert got.content == data
            part = http.get(
                f"/api/v1/files/{stored['id']}/content",
                headers={**device.headers, "Range": "bytes=1048570-1048580"},
            )
            assert part.status_code == 206 and part.content == data[1048570:1048581]
        assert any(True for _ in rt.store.list())
    finally:
        rt.close()


def test_tuspy_reports_refusals(runtime, server, tmp_path):
    make_user(runtime)
    tus = _tus(server.url, "srd_not-a-token")
    with pytest.raises(TusCommunicationError):
        tus.uploader(file_stream=io.BytesIO(b"x" * 100), metadata={"filename": "x.bin"}).upload()


def test_the_last_request_stores_every_chunk_so_a_refused_completion_finishes_later(
    runtime, server
):
    from sqlalchemy import select

    from strongroom.accounts.service import set_quota
    from strongroom.locker.models import Upload, UploadChunk

    make_user(runtime)
    data = os.urandom(3 * MiB + 17)  # its last chunk ends where the bytes end
    with httpx.Client(base_url=server.url, timeout=30) as http:
        device = register_device(http)
        tus = {**device.headers, "Tus-Resumable": "1.0.0"}
        location = tus_create(http, len(data), tus, filename="late.bin")
        with runtime.db.write() as s:
            set_quota(s, "alice", MiB)  # the file no longer fits when it is complete
        patch = {**tus, "Content-Type": "application/offset+octet-stream"}
        r = http.patch(location, content=data, headers={**patch, "Upload-Offset": "0"})
        assert r.status_code == 413 and r.json()["code"] == "quota-exceeded"
        with runtime.db.read() as s:
            upload = s.scalar(select(Upload).where(Upload.public_id == location.rsplit("/", 1)[1]))
            assert upload.offset == len(data) and upload.tail_blob is None
            sizes = s.scalars(select(UploadChunk.size).where(UploadChunk.upload_id == upload.id))
            assert sum(sizes) == len(data)

        with runtime.db.write() as s:
            set_quota(s, "alice", 100 * MiB)
        r = http.patch(location, content=b"", headers={**patch, "Upload-Offset": str(len(data))})
        assert r.status_code == 204
        got = http.get(
            f"/api/v1/files/{r.headers['strongroom-file-id']}/content", headers=device.headers
        )
        assert got.content == data


def _statements(runtime, needle: str) -> list[str]:
    """Statements containing ``needle`` the server's database runs from now on (a real engine
    event, no patching)."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if needle in statement:
            seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", record)
    return seen


def test_a_file_sent_whole_with_its_creation_is_stored_in_one_transaction(runtime, server):
    make_user(runtime)
    data = os.urandom(3 * MiB + 5)
    staged_rows = _statements(runtime, "upload_chunks")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        device = register_device(http)
        tus = {**device.headers, "Tus-Resumable": "1.0.0"}
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        r = http.post(
            "/api/v1/uploads",
            content=data,
            headers={
                **tus,
                "Upload-Length": str(len(data)),
                "Upload-Metadata": tus_metadata(filename="whole.mov", folder="Videos"),
                "Upload-Checksum": f"sha256 {digest}",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert r.status_code == 201, r.text
        assert r.headers["upload-offset"] == str(len(data))
        file_id = r.headers["strongroom-file-id"]
        head = http.head(r.headers["location"], headers=tus)
        assert head.headers["upload-offset"] == head.headers["upload-length"] == str(len(data))
        assert head.headers["strongroom-file-id"] == file_id
        got = http.get(f"/api/v1/files/{file_id}/content", headers=device.headers)
        assert got.content == data
        stored = http.get(f"/api/v1/files/{file_id}", headers=device.headers).json()
        assert (stored["folder"], stored["category"]) == ("Videos", "videos")
    assert staged_rows == []  # no checkpoint rows written and deleted again


def test_a_whole_file_with_a_wrong_checksum_or_beyond_the_quota_stores_no_file(runtime, server):
    from strongroom.accounts.service import set_quota

    make_user(runtime)
    data = os.urandom(2 * MiB)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        device = register_device(http)
        tus = {
            **device.headers,
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(data)),
            "Upload-Metadata": tus_metadata(filename="a.bin"),
            "Content-Type": "application/offset+octet-stream",
        }
        wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
        r = http.post(
            "/api/v1/uploads", content=data, headers={**tus, "Upload-Checksum": f"sha256 {wrong}"}
        )
        assert r.status_code == 460 and "location" not in r.headers
        with runtime.db.write() as s:
            set_quota(s, "alice", MiB)
        r = http.post("/api/v1/uploads", content=data, headers=tus)
        assert r.status_code == 413 and r.json()["code"] == "quota-exceeded"
        listed = http.get("/api/v1/files", headers=device.headers).json()
        assert listed["files"] == []
