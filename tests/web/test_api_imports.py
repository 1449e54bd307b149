"""``/api/v1/imports``: a tus upload (``purpose import``) imported by a job, over real HTTP, with
the job run by a real worker; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from strongroom.jobs.models import Job
from strongroom.jobs.tasks import make_worker
from strongroom.messages.models import Message
from tests.factories import make_user, message, register_device, tus_metadata, tus_post
from tests.formats.backup_fixtures import BACKUP_PASSWORD, message_backup
from tests.formats.builders import PNG, call, calls, mms, part, sms, smses

T0 = 1_700_000_000_000
OWNER = "+15550100099"
PROBLEM_JSON = "application/problem+json"


@contextmanager
def device(runtime, server, user: str) -> Iterator[httpx.Client]:
    """A new account's registered device, as an HTTP client with its token."""
    make_user(runtime, user)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        http.headers.update(register_device(http, user).headers)
        yield http


@pytest.fixture
def alice(runtime, server):
    with device(runtime, server, "alice") as http:
        yield http


@pytest.fixture
def bob(runtime, server):
    with device(runtime, server, "bob") as http:
        yield http


def upload(http: httpx.Client, data: bytes, filename: str, **meta: str) -> str:
    """A finished tus upload (creation-with-upload) of ``data`` for an import; its id."""
    r = tus_post(http, data, purpose="import", filename=filename, **meta)
    assert r.status_code == 201, r.text
    assert r.headers["upload-offset"] == str(len(data))
    assert "strongroom-file-id" not in r.headers  # not a locker file
    return r.headers["location"].rsplit("/", 1)[-1]


def start(http: httpx.Client, upload_id: str, **body: object) -> dict:
    r = http.post("/api/v1/imports", json={"upload": upload_id, "format": "auto", **body})
    assert r.status_code == 202, r.text
    found = r.json()
    assert r.headers["location"] == f"/api/v1/imports/{found['id']}"
    return found


def run_jobs(runtime) -> None:
    make_worker(runtime).run_until_idle()


def status(http: httpx.Client, import_id: str) -> dict:
    r = http.get(f"/api/v1/imports/{import_id}")
    assert r.status_code == 200, r.text
    return r.json()


def messages_stored(runtime) -> int:
    with runtime.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Message)) or 0)


def job_row(runtime, import_id: str) -> Job:
    with runtime.db.read() as s:
        job = s.get(Job, int(import_id))
        assert job is not None
        s.expunge(job)
        return job


def expect_problem(r: httpx.Response, status_code: int, code: str) -> dict:
    assert r.status_code == status_code, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    problem = r.json()
    assert (problem["status"], problem["code"]) == (status_code, code)
    assert problem["type"] == f"/api/v1/problems/{code}" and problem["detail"]
    return problem


def sbr_xml(n: int = 3, first: int = 0, mms_at: int = T0 + 999_000) -> bytes:
    """``n`` SMS and an MMS with a picture, in SMS Backup & Restore XML."""
    picture = base64.b64encode(PNG).decode()
    records = [
        sms(body=f"message {i}", date=str(T0 + i * 1000), address="+15550100001")
        for i in range(first, first + n)
    ]
    records.append(
        mms(
            [part(ct="image/png", name="cat.png", text="null", data=picture), part(text="a cat")],
            [("+15550100002", 137), (OWNER, 151)],
            date=str(mms_at),
        )
    )
    return smses(*records).encode()


def calls_xml() -> bytes:
    return calls(
        call(number="+15550100001", date=str(T0), type="1", duration="61"),
        call(number="+15550100003", date=str(T0 + 60_000), type="3", duration="0"),
    ).encode()


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def test_an_uploaded_sbr_file_is_imported_by_a_job(runtime, alice):
    created = start(alice, upload(alice, sbr_xml(), "sms-20240131.xml"))
    assert (created["state"], created["format"], created["filename"]) == (
        "queued",
        "auto",
        "sms-20240131.xml",
    )
    assert messages_stored(runtime) == 0
    run_jobs(runtime)
    done = status(alice, created["id"])
    assert done["state"] == "done", done["error"]
    assert done["error"] is None and done["problems"] == []
    assert done["counts"] == {
        "imported": 4,
        "duplicates": 0,
        "skipped": 0,
        "problems": 0,
        "messages": 4,
        "calls": 0,
    }
    assert done["progress"]["fraction"] == 1.0
    assert done["started_at"] is not None and done["finished_at"] >= done["started_at"]
    assert alice.get("/api/v1/files").json()["files"] == []  # purpose=import: no locker file


def test_imported_messages_are_seen_through_the_messages_api(runtime, alice):
    start(alice, upload(alice, sbr_xml(), "sms.xml"))
    run_jobs(runtime)
    conversations = alice.get("/api/v1/conversations").json()["conversations"]
    assert sorted(c["participants"] for c in conversations) == [
        ["+15550100001"],
        ["+15550100002"],
    ]
    texts = next(c for c in conversations if c["participants"] == ["+15550100001"])
    page = alice.get(f"/api/v1/conversations/{texts['id']}/messages").json()["messages"]
    assert sorted(m["body"] for m in page) == ["message 0", "message 1", "message 2"]
    assert {m["source"] for m in page} == {"sbr-xml"}
    picture = next(c for c in conversations if c["participants"] == ["+15550100002"])
    [mms_message] = alice.get(f"/api/v1/conversations/{picture['id']}/messages").json()["messages"]
    [png] = [p for p in mms_message["parts"] if p["content_type"] == "image/png"]
    assert alice.get(f"/api/v1/messages/parts/{png['id']}").content == PNG


def test_a_message_a_phone_already_synced_is_a_duplicate(runtime, alice):
    r = alice.put("/api/v1/account/services/messages", json={"enabled": True})
    assert r.status_code == 200 and r.json()["enabled"], r.text
    synced = message("message 1", sender="+15550100001", date=T0 + 1000, read=True)
    r = alice.post("/api/v1/messages/upload", json={"items": [synced]})
    assert r.status_code == 200, r.text
    assert [i["status"] for i in r.json()["results"]] == ["created"]
    created = start(alice, upload(alice, sbr_xml(), "sms.xml"))
    run_jobs(runtime)
    counts = status(alice, created["id"])["counts"]
    assert (counts["imported"], counts["duplicates"]) == (3, 1)
    assert messages_stored(runtime) == 4


def test_a_zipped_folder_of_sms_and_calls_files_is_imported_and_again_is_all_duplicates(
    runtime, alice
):
    backup = zipped(
        {
            "SMSBackupRestore/sms-20240130.xml": sbr_xml(n=2),
            "SMSBackupRestore/sms-20240131.xml": sbr_xml(n=2, first=1),  # overlaps the first
            "SMSBackupRestore/calls-20240131.xml": calls_xml(),
        }
    )
    first = start(alice, upload(alice, backup, "SMSBackupRestore.zip"))
    run_jobs(runtime)
    done = status(alice, first["id"])
    assert done["state"] == "done", done["error"]
    assert done["filename"] == "SMSBackupRestore.zip"
    counts = done["counts"]
    # 3 distinct SMS + 1 MMS + 2 calls; message 1 and the MMS come twice
    assert (counts["imported"], counts["duplicates"], counts["calls"]) == (6, 2, 2)
    assert messages_stored(runtime) == 4

    again = start(alice, upload(alice, backup, "SMSBackupRestore.zip"))
    run_jobs(runtime)
    counts = status(alice, again["id"])["counts"]
    assert (counts["imported"], counts["duplicates"]) == (0, 8)
    assert messages_stored(runtime) == 4


def test_a_zip_with_a_name_outside_its_folder_fails_and_stores_nothing(runtime, alice, tmp_path):
    evil = zipped({"backup/sms-1.xml": sbr_xml(), "../evil": b"escaped"})
    created = start(alice, upload(alice, evil, "evil.zip"))
    run_jobs(runtime)
    failed = status(alice, created["id"])
    assert failed["state"] == "failed"
    assert "evil.zip" in failed["error"] and "'../evil'" in failed["error"]
    assert "outside its folder" in failed["error"]
    assert messages_stored(runtime) == 0
    scratch = runtime.settings.data / "scratch"
    assert not (scratch / "evil").exists() and not (runtime.settings.data / "evil").exists()
    assert list(scratch.iterdir()) == []  # the job's own folder is gone too
    assert job_row(runtime, created["id"]).attempts == 1  # bad input is not retried


def test_a_truncated_file_in_a_zip_keeps_its_complete_records_and_lists_the_damage(runtime, alice):
    cut = sbr_xml(n=2, first=50, mms_at=T0 + 5_000_000)[:-40]  # inside the MMS's <addrs>
    created = start(
        alice, upload(alice, zipped({"sms-1.xml": sbr_xml(n=5), "sms-2.xml": cut}), "a.zip")
    )
    run_jobs(runtime)
    done = status(alice, created["id"])
    assert done["state"] == "done", done["error"]
    assert (done["counts"]["imported"], done["counts"]["problems"]) == (8, 2)
    wheres = [p["where"] for p in done["problems"]]
    assert (
        wheres[0].startswith("sms-2.xml line ") and "ends early" in done["problems"][0]["message"]
    )
    assert messages_stored(runtime) == 8


def test_an_unreadable_file_in_a_zip_fails_the_job_and_the_repaired_zip_completes_it(
    runtime, alice
):
    good, later = sbr_xml(n=5), sbr_xml(n=2, first=50, mms_at=T0 + 5_000_000)
    noise = b"<smses count='3'>\n" + bytes(range(256)) * 4
    failed = start(
        alice, upload(alice, zipped({"p/sms-1.xml": good, "p/sms-2.xml": noise}), "p.zip")
    )
    run_jobs(runtime)
    found = status(alice, failed["id"])
    assert found["state"] == "failed" and "sms-2.xml" in found["error"]
    assert messages_stored(runtime) == 6  # what was read before the damage stays

    repaired = zipped({"p/sms-1.xml": good, "p/sms-2.xml": later})
    done = start(alice, upload(alice, repaired, "p.zip"))
    run_jobs(runtime)
    found = status(alice, done["id"])
    assert found["state"] == "done", found["error"]
    assert (found["counts"]["imported"], found["counts"]["duplicates"]) == (3, 6)
    assert messages_stored(runtime) == 9


def test_random_bytes_fail_the_job_naming_the_file(runtime, alice):
    created = start(alice, upload(alice, bytes(range(256)) * 20, "sms-noise.xml"))
    run_jobs(runtime)
    failed = status(alice, created["id"])
    assert failed["state"] == "failed" and "sms-noise.xml" in failed["error"]
    assert messages_stored(runtime) == 0
    assert alice.get("/api/v1/account").status_code == 200  # the server carries on


def test_another_account_cannot_see_or_import_an_upload_of_alices(runtime, alice, bob):
    upload_id = upload(alice, sbr_xml(), "sms.xml")
    expect_problem(
        bob.post("/api/v1/imports", json={"upload": upload_id, "format": "auto"}), 404, "not-found"
    )
    created = start(alice, upload_id)
    expect_problem(bob.get(f"/api/v1/imports/{created['id']}"), 404, "not-found")
    expect_problem(bob.get("/api/v1/imports/not-a-number"), 404, "not-found")
    run_jobs(runtime)
    expect_problem(bob.get(f"/api/v1/imports/{created['id']}"), 404, "not-found")
    assert status(alice, created["id"])["state"] == "done"
    assert bob.get("/api/v1/conversations").json()["conversations"] == []


def test_only_an_import_upload_can_be_imported(runtime, alice):
    r = alice.post(
        "/api/v1/uploads",
        content=sbr_xml(),
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(sbr_xml())),
            "Upload-Metadata": tus_metadata(filename="sms.xml", folder="Backups"),
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert r.status_code == 201 and r.headers["strongroom-file-id"]
    locker_upload = r.headers["location"].rsplit("/", 1)[-1]
    problem = expect_problem(
        alice.post("/api/v1/imports", json={"upload": locker_upload}), 409, "not-an-import-upload"
    )
    assert "purpose=import" in problem["detail"]
    expect_problem(
        alice.post("/api/v1/imports", json={"upload": "no-such-upload"}), 404, "not-found"
    )
    assert alice.get("/api/v1/imports").json()["imports"] == []


def test_an_unfinished_import_upload_cannot_be_imported_yet(runtime, alice):
    r = alice.post(
        "/api/v1/uploads",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "1000",
            "Upload-Metadata": tus_metadata(purpose="import", filename="sms.xml"),
        },
    )
    assert r.status_code == 201, r.text
    unfinished = r.headers["location"].rsplit("/", 1)[-1]
    expect_problem(
        alice.post("/api/v1/imports", json={"upload": unfinished}), 409, "not-an-import-upload"
    )


def test_a_bad_request_body_is_a_problem(runtime, alice):
    upload_id = upload(alice, sbr_xml(), "sms.xml")
    problem = expect_problem(
        alice.post("/api/v1/imports", json={"upload": upload_id, "format": "whatsapp"}),
        400,
        "invalid-input",
    )
    assert "sbr-xml" in problem["detail"] and "ios-backup" in problem["detail"]
    missing = expect_problem(alice.post("/api/v1/imports", json={}), 422, "invalid-input")
    assert [e["field"] for e in missing["errors"]] == ["upload"]
    expect_problem(
        alice.post("/api/v1/imports", content=b"{", headers={"Content-Type": "application/json"}),
        400,
        "malformed-json",
    )
    assert alice.get("/api/v1/imports").json()["imports"] == []
    # the upload was not used up by the refusals
    start(alice, upload_id, format="sbr-xml")


def test_the_list_holds_the_accounts_own_imports_newest_first(runtime, server, alice, bob):
    a1 = start(alice, upload(alice, sbr_xml(n=1), "sms-1.xml"))
    b1 = start(bob, upload(bob, sbr_xml(n=1), "bobs.xml"))
    a2 = start(alice, upload(alice, calls_xml(), "calls-1.xml"), format="sbr-xml")
    run_jobs(runtime)
    listed = alice.get("/api/v1/imports").json()["imports"]
    assert [(i["id"], i["filename"], i["state"]) for i in listed] == [
        (a2["id"], "calls-1.xml", "done"),
        (a1["id"], "sms-1.xml", "done"),
    ]
    assert listed[0]["format"] == "sbr-xml" and listed[0]["counts"]["calls"] == 2
    assert [i["id"] for i in bob.get("/api/v1/imports").json()["imports"]] == [b1["id"]]
    expect_problem(httpx.get(f"{server.url}/api/v1/imports"), 401, "not-authenticated")


def encrypted_backup_zip(tmp_path: Path) -> bytes:
    """A Finder/iTunes backup folder, encrypted with BACKUP_PASSWORD, zipped as a folder."""
    made = message_backup(tmp_path / "00008030-001A")
    folder = made.finish()
    return zipped(
        {
            str(p.relative_to(tmp_path)): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
    )


def assert_password_gone(runtime, import_id: str, password: str) -> None:
    job = job_row(runtime, import_id)
    assert job.status in ("done", "failed")
    assert "password" not in job.payload
    for value in (job.payload, job.result, job.progress, job.error):
        assert password not in str(value)


def test_an_encrypted_backup_zip_imports_with_its_password_which_is_then_forgotten(
    runtime, alice, tmp_path
):
    upload_id = upload(alice, encrypted_backup_zip(tmp_path), "iPhone.zip")
    created = start(alice, upload_id, password=BACKUP_PASSWORD)
    queued = job_row(runtime, created["id"])
    assert queued.payload["password"]["wrapped"]  # kept only wrapped while the job waits
    assert BACKUP_PASSWORD not in str(queued.payload)
    run_jobs(runtime)
    done = status(alice, created["id"])
    assert done["state"] == "done", done["error"]
    assert (done["counts"]["imported"], done["counts"]["messages"]) == (2, 2)
    # its sms.db counted its rows first: the progress is in records
    assert (done["progress"]["records_read"], done["progress"]["records_expected"]) == (2, 2)
    assert_password_gone(runtime, created["id"], BACKUP_PASSWORD)
    bodies = [
        m["body"]
        for c in alice.get("/api/v1/conversations").json()["conversations"]
        for m in alice.get(f"/api/v1/conversations/{c['id']}/messages").json()["messages"]
    ]
    assert sorted(bodies) == ["look", "see you at 8"]


def test_a_wrong_backup_password_fails_the_job_and_the_upload_can_be_imported_again(
    runtime, alice, tmp_path
):
    upload_id = upload(alice, encrypted_backup_zip(tmp_path), "iPhone.zip")
    created = start(alice, upload_id, password="a wrong guess")
    run_jobs(runtime)
    failed = status(alice, created["id"])
    assert failed["state"] == "failed"
    assert "wrong password" in failed["error"]
    assert_password_gone(runtime, created["id"], "a wrong guess")
    assert messages_stored(runtime) == 0

    # a failed import leaves the upload in place: it can be imported again, with the password
    again = start(alice, upload_id, password=BACKUP_PASSWORD)
    run_jobs(runtime)
    assert status(alice, again["id"])["state"] == "done"
    assert messages_stored(runtime) == 2
    # a finished import has used the upload up
    used = alice.post("/api/v1/imports", json={"upload": upload_id, "password": BACKUP_PASSWORD})
    expect_problem(used, 404, "not-found")
