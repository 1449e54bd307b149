"""``GET /api/v1/export``: the caller's messages as a download, streamed, never anyone else's."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import threading
import time
import tracemalloc
import zipfile

import httpx
import pytest

from strongroom.formats.sbr_xml import SbrXmlReader
from tests.factories import make_user, message, upload_part
from tests.formats.builders import PNG, read_all

ALICE, BOB = "+15550100001", "+15550100002"
T0 = 1_706_700_000_000  # 2024-01-31T11:20:00Z
MiB = 1024 * 1024


def fill(phone) -> list[dict]:
    """Upload three messages (one with a picture and a vCard) in two conversations."""
    items = [
        message("yesterday", sender=ALICE, date=T0 - 86_400_000, read=False),
        message("today", direction="out", participants=[ALICE], date=T0),
        message(
            "tomorrow <b>bold</b>",
            kind="mms",
            sender=BOB,
            participants=[BOB],
            date=T0 + 86_400_000,
            read=True,
            parts=[
                upload_part(PNG, "image/png", "pic.png"),
                upload_part(b"BEGIN:VCARD\r\nEND:VCARD\r\n", "text/x-vcard", "bob.vcf"),
            ],
        ),
    ]
    assert {r["status"] for r in phone.upload(items)["results"]} == {"created"}
    return items


def download(phone, **params) -> httpx.Response:
    return phone.http.get("/api/v1/export", params=params)


def conversation_with(phone, handle: str) -> str:
    return next(c["id"] for c in phone.conversations() if c["participants"] == [handle])


def test_uploaded_messages_come_back_from_an_sbr_xml_download(runtime, connect, tmp_path):
    make_user(runtime)
    phone = connect()
    phone.update_account(phone_numbers=["(555) 010-0000"])
    items = fill(phone)
    r = download(phone, format="sbr-xml")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    assert r.headers["content-disposition"].startswith('attachment; filename="sms-')
    path = tmp_path / "sms.xml"
    path.write_bytes(r.content)
    found = {m.body: m for m in read_all(SbrXmlReader(), path).messages}
    assert set(found) == {i["body"] for i in items}
    for item in items:
        record = found[item["body"]]
        assert (record.date_ms, record.direction) == (item["date"], item["direction"])
        assert record.read is (item["read"] or item["direction"] == "out")
    pictures = [p for p in found["tomorrow <b>bold</b>"].parts if p.content_type != "text/plain"]
    assert [(p.content_type, p.filename, p.content.read()) for p in pictures] == [
        ("image/png", "pic.png", PNG),
        ("text/x-vcard", "bob.vcf", b"BEGIN:VCARD\r\nEND:VCARD\r\n"),
    ]
    assert b'count="3"' in r.content[:200]
    # the owner is the To of a received MMS, as the phone itself records it
    assert b'<addr address="+15550100000" type="151"' in r.content


def test_every_format_downloads_as_what_it_is(runtime, connect):
    make_user(runtime)
    phone = connect()
    fill(phone)
    html = download(phone, format="html")
    assert html.headers["content-type"] == "application/zip"
    assert 'filename="strongroom-alice-html-' in html.headers["content-disposition"]
    pages = zipfile.ZipFile(io.BytesIO(html.content))
    assert pages.testzip() is None and "messages/index.html" in pages.namelist()
    assert [pages.read(n) for n in pages.namelist() if n.endswith(".png")] == [PNG]
    archive = zipfile.ZipFile(io.BytesIO(download(phone, format="archive").content))
    doc = json.loads(archive.read("strongroom-export/messages.json"))
    assert len(doc["messages"]) == 3
    [path] = [
        p["path"] for m in doc["messages"] for p in m["parts"] if p["content_type"] == "image/png"
    ]
    assert archive.read(f"strongroom-export/{path}") == PNG
    text = download(phone, format="txt")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert "[11:20] Me: today" in text.text
    rows = list(
        csv.DictReader(io.StringIO(download(phone, format="csv").content.decode("utf-8-sig")))
    )
    assert [r["body"] for r in rows] == ["yesterday", "today", "tomorrow <b>bold</b>"]
    doc = download(phone, format="json").json()
    assert doc["format_version"] == 1 and len(doc["messages"]) == 3
    mbox = download(phone, format="sbp-mbox")
    assert mbox.status_code == 200 and mbox.content.startswith(b"From ")


def test_one_conversation_or_a_date_range(runtime, connect):
    make_user(runtime)
    phone = connect()
    fill(phone)
    alice = conversation_with(phone, ALICE)
    doc = download(phone, format="json", conversation=alice).json()
    assert [m["body"] for m in doc["messages"]] == ["yesterday", "today"]
    r = download(phone, format="txt", conversation=alice)
    assert f'filename="strongroom-alice-{alice}-txt-' in r.headers["content-disposition"]
    doc = download(phone, format="json", since="2024-01-31", until="2024-02-01").json()
    assert [m["body"] for m in doc["messages"]] == ["today", "tomorrow <b>bold</b>"]
    doc = download(phone, format="json", since="2024-01-31T12:00:00Z").json()
    assert [m["body"] for m in doc["messages"]] == ["tomorrow <b>bold</b>"]


def test_another_accounts_conversation_is_not_found(runtime, connect):
    make_user(runtime, "alice")
    make_user(runtime, "bob")
    alices_phone, bobs_phone = connect("alice"), connect("bob")
    fill(alices_phone)
    bobs_phone.upload([message("bob's own", sender=ALICE)])
    bobs = conversation_with(bobs_phone, ALICE)
    for wanted in (bobs, "99999999", "not-an-id"):
        r = download(alices_phone, format="html", conversation=wanted)
        assert r.status_code == 404 and r.json()["code"] == "not-found", r.text
    mine = download(bobs_phone, format="json").json()
    assert [m["body"] for m in mine["messages"]] == ["bob's own"]


def test_bad_requests_are_refused_before_anything_is_sent(runtime, connect, http):
    make_user(runtime)
    phone = connect()
    r = download(phone, format="pdf")
    assert r.status_code == 400 and r.json()["code"] == "unknown-format"
    r = download(phone, format="json", since="last week")
    assert r.status_code == 400 and "since: 'last week'" in r.json()["detail"]
    r = download(phone, format="json", since="2024-02-01", until="2024-01-01")
    assert r.status_code == 400
    r = http.get("/api/v1/export", params={"format": "json"})
    assert r.status_code == 401


def _export_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "export")


def _fill_big(phone, count: int, size: int) -> None:
    for n in range(count):
        part = upload_part(os.urandom(size), "video/mp4", f"clip-{n}.mp4")
        phone.upload([message(f"clip {n}", kind="mms", date=T0 + n, parts=[part])])


def test_the_archive_streams_in_constant_memory_on_the_server(runtime, connect):
    make_user(runtime)
    phone = connect()
    _fill_big(phone, 16, 2 * MiB)
    received = 0
    tracemalloc.start()
    try:
        with phone.http.stream("GET", "/api/v1/export", params={"format": "archive"}) as r:
            assert r.status_code == 200
            for piece in r.iter_raw(64 * 1024):
                received += len(piece)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert received > 32 * MiB
    assert peak < 12 * MiB, f"peak {peak / MiB:.1f} MiB serving {received / MiB:.0f} MiB"


def test_a_client_that_goes_away_stops_the_export(runtime, connect):
    make_user(runtime)
    phone = connect()
    _fill_big(phone, 12, 2 * MiB)
    before = _export_threads()
    # A small receive window, as a slow client's: left to autotuning, loopback's can grow to
    # 32 MiB here (tcp_rmem), and the whole 24 MiB export then fitted in the kernel's buffers,
    # its writer finished before the client went away, and the test failed now and then.
    small_window = httpx.HTTPTransport(
        socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)]
    )
    with (
        httpx.Client(
            base_url=phone.http.base_url, headers=phone.http.headers, transport=small_window
        ) as slow,
        slow.stream("GET", "/api/v1/export", params={"format": "archive"}) as r,
    ):
        assert r.status_code == 200
        # Held, not a temporary: a dropped iterator is closed at once, and with it the
        # connection, so the export could end before the check below.
        chunks = r.iter_raw(64 * 1024)
        next(chunks)
        time.sleep(0.5)  # the writer is still waiting on the client, not finished
        assert _export_threads() == before + 1
    deadline = time.monotonic() + 15
    while _export_threads() > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _export_threads() == before


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_an_empty_vault_exports_cleanly(runtime, connect, fmt):
    make_user(runtime)
    r = download(connect(), format=fmt)
    assert r.status_code == 200 and r.content


def test_a_damaged_vault_answers_an_error_rather_than_a_broken_file(runtime, connect):
    make_user(runtime)
    phone = connect()
    fill(phone)
    for blob in (runtime.settings.data / "blobs").rglob("*"):
        if blob.is_file():
            blob.write_bytes(b"damaged")
    r = download(phone, format="archive")
    assert r.status_code == 503 and r.json()["code"], r.text
    assert download(phone, format="csv").status_code == 200  # needs no attachment bytes
