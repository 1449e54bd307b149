"""Imports end to end: real files through the readers and the messages service into a real
vault, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import pickle
import threading
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from strongroom.accounts.keys import vault_for
from strongroom.accounts.models import Account
from strongroom.content import store as content
from strongroom.content.models import Pack
from strongroom.formats import BadInput, ReadOptions, reading
from strongroom.jobs import imports
from strongroom.jobs.imports import run_import
from strongroom.jobs.models import Job
from strongroom.jobs.tasks import make_worker
from strongroom.messages import preparing
from strongroom.messages.models import (
    Call,
    Conversation,
    ConversationParticipant,
    Handle,
    Message,
    MessagePart,
    Reaction,
)
from strongroom.messages.records import MessageRecord, ReactionRecord
from strongroom.runtime import Runtime
from tests.conftest import SAMPLES, missing
from tests.factories import make_user, store_records, vault_user
from tests.formats.apple_fixtures import MessagesDb, apple_ns, attributed_body
from tests.formats.builders import PNG, call, calls, mms, part, sms, smses, write
from tests.formats.mail_builders import sms_mail, write_mbox

T0 = 1_700_000_000_000


def count(rt: Runtime, model: type, account_id: int) -> int:
    with rt.db.read() as s:
        return int(
            s.scalar(select(func.count()).select_from(model).where(model.account_id == account_id))
            or 0
        )


def bodies(rt: Runtime, account_id: int) -> list[str]:
    with rt.db.read() as s:
        return list(
            s.scalars(
                select(Message.body).where(Message.account_id == account_id).order_by(Message.date)
            )
        )


def sbr_file(tmp_path: Path, n: int = 5, name: str = "sms-1.xml") -> Path:
    records = [
        sms(body=f"message {i}", date=str(T0 + i * 1000), type=str(1 + i % 2)) for i in range(n)
    ]
    picture = base64.b64encode(PNG).decode()
    records.append(
        mms(
            [part(ct="image/png", name="cat.png", text="null", data=picture), part(text="a cat")],
            [("+15550100001", 137), ("+15550100099", 151)],
            date=str(T0 + 999_000),
        )
    )
    return write(tmp_path / name, smses(*records))


def liked_chat(path: Path, n: int, text: str, *, in_body: bool = False) -> Path:
    """A Messages database of ``n`` messages the owner sent (``text`` with ``{i}``), each
    liked right after by the other person; with ``in_body`` the tapbacks' text is only in
    ``attributedBody``, as since iOS 16."""
    db = MessagesDb(path)
    handle = db.handle("+15550100001")
    chat = db.chat([handle])
    for i in range(n):
        said = text.format(i=i)
        db.message(chat, guid=f"M{i}", text=said, is_from_me=1, date=apple_ns(T0 + i))
        liked = f"Liked “{said}”"
        db.message(
            chat,
            text=None if in_body else liked,
            attributedBody=attributed_body(liked) if in_body else None,
            handle_id=handle,
            associated_message_guid=f"p:0/M{i}",
            associated_message_type=2001,
            date=apple_ns(T0 + i + 500),
        )
    db.close()
    return db.path


def test_sbr_import_stores_messages_and_parts_and_again_stores_nothing(
    runtime: Runtime, tmp_path: Path
) -> None:
    account = vault_user(runtime, phone_numbers=["+15550100099"])
    path = sbr_file(tmp_path)
    first = run_import(runtime, account, [path])
    assert (first.imported, first.duplicates, first.skipped, first.problems) == (6, 0, 0, 0)
    assert first.messages == 6 and first.parts == 2
    assert count(runtime, Message, account) == 6
    assert bodies(runtime, account)[:2] == ["message 0", "message 1"]
    with runtime.db.read() as s:
        stored = s.execute(
            select(MessagePart.content_type, MessagePart.filename, MessagePart.content_id).where(
                MessagePart.account_id == account, MessagePart.content_type == "image/png"
            )
        ).one()
        vault = vault_for(s, runtime.store, runtime.keyring, account)
        chunks = content.chunk_list(s, stored.content_id)
    assert stored.filename == "cat.png"
    assert b"".join(content.read_range(vault, chunks)) == PNG

    again = run_import(runtime, account, [path])
    assert (again.imported, again.duplicates, again.skipped) == (0, 6, 0)
    assert count(runtime, Message, account) == 6


def test_overlapping_files_from_two_tools_store_each_message_once(
    runtime: Runtime, tmp_path: Path
) -> None:
    account = vault_user(runtime)
    xml = write(
        tmp_path / "sms.xml",
        smses(
            sms(body="only in the xml", date=str(T0)),
            sms(body="in both", date=str(T0 + 5000)),
        ),
    )
    mail = write_mbox(
        tmp_path / "sms.mbox",
        sms_mail(body="in both", date=str(T0 + 5000)),
        sms_mail(body="only in the mail", date=str(T0 + 9000)),
    )
    report = run_import(runtime, account, [xml, mail])
    assert (report.imported, report.duplicates) == (3, 1)
    assert sorted(bodies(runtime, account)) == ["in both", "only in the mail", "only in the xml"]


def test_calls_are_stored_once(runtime: Runtime, tmp_path: Path) -> None:
    account = vault_user(runtime)
    path = write(
        tmp_path / "calls-1.xml",
        calls(
            call(number="(555) 010-0001", date=str(T0), type="1", duration="61"),
            call(number="+15550100001", date=str(T0 + 60_000), type="3", duration="0"),
            call(number="", date=str(T0 + 120_000), type="2", duration="5"),
        ),
    )
    report = run_import(runtime, account, [path])
    assert (report.imported, report.calls, report.duplicates) == (3, 3, 0)
    with runtime.db.read() as s:
        rows = s.execute(
            select(Call.type, Call.duration_s).where(Call.account_id == account).order_by(Call.date)
        ).all()
    assert [tuple(r) for r in rows] == [("incoming", 61), ("missed", 0), ("outgoing", 5)]
    again = run_import(runtime, account, [path])
    assert (again.imported, again.duplicates) == (0, 3)
    assert count(runtime, Call, account) == 3


class Crash(Exception):
    """The import stopping on purpose."""


def in_batches_of_ten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "BATCH", 10)
    monkeypatch.setattr(reading, "BATCH", 10)


def crash_after_two_batches(report: imports.ImportReport) -> None:
    if report.messages >= 20:
        raise Crash


def test_an_import_stopped_half_way_completes_when_run_again(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = vault_user(runtime)
    path = sbr_file(tmp_path, n=40)
    in_batches_of_ten(monkeypatch)

    with pytest.raises(Crash):
        run_import(runtime, account, [path], progress=crash_after_two_batches)
    # the batch being staged when it stopped was waited for: no thread of the import is left
    assert not [t for t in threading.enumerate() if t.name.startswith("strongroom-import")]
    stored = count(runtime, Message, account)
    assert 0 < stored < 41
    report = run_import(runtime, account, [path])
    assert report.duplicates == stored
    assert report.imported == 41 - stored
    assert count(runtime, Message, account) == 41


def test_batches_sharing_a_transaction_stay_stored_when_the_import_stops_outside_it(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read in a child that is always ahead, the batches share one transaction (SQLite); the
    import stopping on something else than a write (here its progress hook) commits what it
    stored, as when each batch had its own transaction."""
    account = vault_user(runtime)
    path = sbr_file(tmp_path, n=40)
    in_batches_of_ten(monkeypatch)
    monkeypatch.setattr(reading, "CHILD_ABOVE", 0)
    monkeypatch.setattr(reading._Pump, "ready", lambda self: True)  # never a wait to commit for
    monkeypatch.setattr(imports, "SHARED_MESSAGES", 1000)
    monkeypatch.setattr(imports, "SHARED_SECONDS", 60.0)
    counted: list[int] = []

    def crash_after_two_batches_counted(report: imports.ImportReport) -> None:
        if report.messages >= 20:
            counted.append(report.imported)
            raise Crash

    with pytest.raises(Crash):
        run_import(runtime, account, [path], progress=crash_after_two_batches_counted)
    assert counted and counted[0] >= 20
    assert count(runtime, Message, account) == counted[0]
    report = run_import(runtime, account, [path])
    assert (report.duplicates, report.imported) == (counted[0], 41 - counted[0])


def test_a_batch_staged_while_the_reader_is_behind_is_stored_at_once(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the reader has nothing ready, the batch staged ahead is stored then, not once the
    next batch has been read (at the start of an import, nothing was stored until two
    batches had been)."""
    account = vault_user(runtime)
    path = sbr_file(tmp_path, n=40)
    monkeypatch.setattr(imports, "BATCH", 10)
    monkeypatch.setattr(reading, "BATCH", 5)  # read here: nothing is ever ready ahead
    waits = imports._Importer.wait

    def once_staged(self: imports._Importer) -> None:
        if self.ahead is not None:
            self.ahead[1].result()  # the staging thread's moment, taken out of the race
        waits(self)

    monkeypatch.setattr(imports._Importer, "wait", once_staged)
    seen: list[tuple[int, int]] = []

    def note(report: imports.ImportReport) -> None:
        seen.append((report.records_read, count(runtime, Message, account)))

    report = run_import(runtime, account, [path], progress=note)
    assert (10, 0) in seen  # the first batch taken: staged, not stored yet
    assert (15, 10) in seen  # half the second batch read: the first is stored
    assert report.imported == count(runtime, Message, account) == 41


def pictures_file(tmp_path: Path, n: int) -> Path:
    """``n`` messages, every fifth an MMS with a picture of its own bytes."""
    records = []
    for i in range(n):
        if i % 5 == 4:
            picture = base64.b64encode(hashlib.sha256(b"%d" % i).digest() * 64).decode()
            records.append(
                mms(
                    [part(ct="image/png", name=f"p{i}.png", text="null", data=picture)],
                    [("+15550100001", 137), ("+15550100099", 151)],
                    date=str(T0 + i * 1000),
                )
            )
        else:
            records.append(sms(body=f"message {i}", date=str(T0 + i * 1000)))
    return write(tmp_path / "sms-pictures.xml", smses(*records))


@pytest.mark.parametrize("stop", ["reading", "storing"])
def test_pictures_of_batches_not_stored_are_on_the_lists_for_reclaiming(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop: str
) -> None:
    """A batch's pictures are written to the vault while it is staged, before it is stored.
    When the import stops first (the batch staged ahead when reading stopped, or a batch whose
    storing failed in its transaction), every pack in the vault is still on the list that
    reclaiming goes through (none is left on disk for good), what was stored stays, and the
    import run again completes."""
    account = vault_user(runtime)
    path = pictures_file(tmp_path, 40)
    in_batches_of_ten(monkeypatch)

    real_store = imports.Ingest._store
    stores = []

    def third_batch_fails_in_its_transaction(self, *args):
        stores.append(1)
        if len(stores) == 3:
            raise Crash
        return real_store(self, *args)

    if stop == "storing":
        monkeypatch.setattr(imports.Ingest, "_store", third_batch_fails_in_its_transaction)
    with pytest.raises(Crash):
        run_import(
            runtime,
            account,
            [path],
            progress=crash_after_two_batches if stop == "reading" else None,
        )
    with runtime.db.read() as s:
        vault = vault_for(s, runtime.store, runtime.keyring, account)
        recorded = {vault.name_of(p) for p in s.scalars(select(Pack.pack_id))}
    written = {info.name for info in runtime.store.list()}
    assert len(written) > 2  # the batches stored, and the one that was not
    assert written == recorded
    assert count(runtime, MessagePart, account) == 4  # two batches of ten, two pictures each
    monkeypatch.undo()
    report = run_import(runtime, account, [path])
    assert (report.imported, report.duplicates) == (20, 20)
    assert count(runtime, MessagePart, account) == 8


def test_tapbacks_become_reactions_of_their_target(runtime: Runtime, tmp_path: Path) -> None:
    account = vault_user(runtime)
    db = MessagesDb(tmp_path / "chat.db")
    handle = db.handle("+15550100001")
    chat = db.chat([handle])
    db.message(chat, guid="TARGET", text="dinner?", is_from_me=1, date=apple_ns(T0))
    db.message(
        chat,
        text=None,
        attributedBody=attributed_body("Loved “dinner?”"),
        handle_id=handle,
        associated_message_guid="p:0/TARGET",
        associated_message_type=2000,
        date=apple_ns(T0 + 1000),
    )
    db.message(chat, text=None, attributedBody=attributed_body("yes " * 100), handle_id=handle,
               date=apple_ns(T0 + 2000))  # fmt: skip
    db.close()
    report = run_import(runtime, account, [db.path])
    assert (report.imported, report.reactions) == (2, 1)
    assert bodies(runtime, account) == ["dinner?", ("yes " * 100).strip()]
    with runtime.db.read() as s:
        reaction = s.execute(select(Reaction.reaction, Reaction.message_id)).one()
        target = s.scalar(select(Message.id).where(Message.guid == "TARGET"))
    assert (reaction.reaction, reaction.message_id) == ("love", target)


def test_tapbacks_among_messages_in_small_batches_reach_every_target(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of three: a batch of tapbacks is stored (with the messages taken before it) in
    the middle of taking messages, and every message and tapback still lands once."""
    monkeypatch.setattr(imports, "BATCH", 3)
    account = vault_user(runtime)
    path = liked_chat(tmp_path / "chat.db", 10, "message {i}", in_body=True)
    report = run_import(runtime, account, [path])
    assert (report.imported, report.reactions, report.messages) == (10, 10, 10)
    with runtime.db.read() as s:
        liked = s.execute(
            select(Message.guid).join(Reaction, Reaction.message_id == Message.id)
        ).scalars()
        assert sorted(liked) == sorted(f"M{i}" for i in range(10))
    assert sorted(bodies(runtime, account)) == sorted(f"message {i}" for i in range(10))


def test_a_damaged_file_keeps_what_came_before_and_a_foreign_one_changes_nothing(
    runtime: Runtime, tmp_path: Path
) -> None:
    account = vault_user(runtime)
    run_import(runtime, account, [sbr_file(tmp_path, n=3, name="first.xml")])
    before = sorted(bodies(runtime, account))
    text = smses(*(sms(body=f"late {i}", date=str(T0 + 10**7 + i)) for i in range(5)))
    truncated = write(tmp_path / "cut.xml", text[: text.index("late 3") - 40])
    noise = tmp_path / "noise.xml"
    noise.write_bytes(hashlib.sha512(b"noise").digest() * 50)

    report = run_import(runtime, account, [truncated, noise], "sbr-xml")
    assert report.imported == 3
    assert any("cut.xml line" in p["where"] for p in report.problem_list)
    assert [f["file"] for f in report.failed] == ["noise.xml"]
    assert "noise.xml" in report.failed[0]["error"]
    assert sorted(bodies(runtime, account)) == sorted([*before, "late 0", "late 1", "late 2"])
    with pytest.raises(BadInput, match="noise.xml"):
        run_import(runtime, account, [noise])  # auto: no reader recognises it


def test_large_files_are_read_in_a_child_process(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = vault_user(runtime)
    monkeypatch.setattr(reading, "CHILD_ABOVE", 0)
    seen: list[int] = []
    report = run_import(
        runtime, account, [sbr_file(tmp_path, n=30)], progress=lambda r: seen.append(r.bytes_read)
    )
    assert report.imported == 31
    assert seen[-1] == report.bytes_total > 0
    assert seen == sorted(seen)
    assert count(runtime, Message, account) == 31


def test_a_messages_database_import_shows_how_far_it_got_in_records(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No read position tells how far a database has been read: its reader counts its rows
    first, and the progress is in records (the API's fraction, the command's bar)."""
    account = vault_user(runtime)
    monkeypatch.setattr(reading, "BATCH", 50)  # hand-overs of 50 records
    path = liked_chat(tmp_path / "chat.db", 100, "message {i}")  # 200 rows: 100 tapbacks
    seen: list[tuple[tuple[int, int] | None, float | None]] = []
    report = run_import(
        runtime,
        account,
        [path],
        progress=lambda r: seen.append((r.done_of_total(), imports._progress_of(r)["fraction"])),
    )
    assert (report.imported, report.reactions) == (100, 100)
    assert report.records_expected == 200 and report.records_read == 200
    fractions = [f for _, f in seen]
    # the first hand-over holds the count and 49 rows
    assert fractions == sorted(fractions) and fractions[0] == 49 / 200
    assert seen[-1] == ((200, 200), 0.99)  # 1.0 only once the job is done
    assert imports._progress_of(report, done=True)["fraction"] == 1.0
    assert report.bytes_total == 0


def test_an_account_with_messages_off_has_them_turned_on(runtime: Runtime, tmp_path: Path) -> None:
    account = make_user(runtime)
    report = run_import(runtime, account, [sbr_file(tmp_path, n=1)])
    assert report.turned_on and report.imported == 2


def test_an_import_that_stores_nothing_leaves_messages_off(
    runtime: Runtime, tmp_path: Path
) -> None:
    account = make_user(runtime)
    noise = tmp_path / "noise.xml"
    noise.write_bytes(b"\x00\x01 not xml at all " * 20)
    report = run_import(runtime, account, [noise], "sbr-xml")
    assert report.failed and not report.turned_on
    with runtime.db.read() as s:
        assert s.get(Account, account).messages_enabled is False


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_zips_with_names_outside_their_folder_or_bombs_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for bad in ("../evil.txt", "/etc/evil", "a/../../evil"):
        z = zip_of(tmp_path / "bad.zip", {"ok.txt": b"x", bad: b"evil"})
        with pytest.raises(BadInput, match="outside its folder"):
            imports.unpack_zip(z, out, "bad.zip")
    bomb = zip_of(tmp_path / "bomb.zip", {"big.xml": b"\0" * (20 * 1024 * 1024)})
    with pytest.raises(BadInput, match="zip bomb"):
        imports.unpack_zip(bomb, out, "bomb.zip")
    assert not (tmp_path / "evil.txt").exists()
    folder = zip_of(tmp_path / "good.zip", {"mail/a.eml": b"x", "mail/b.eml": b"y"})
    assert imports.unpack_zip(folder, out, "good.zip") == out / "mail"


def stored_upload(rt: Runtime, account: int, data: bytes) -> int:
    with rt.db.read() as s:
        vault = vault_for(s, rt.store, rt.keyring, account)
    staged = content.stage(rt.db, vault, account, rt.clock, iter([data]))
    with rt.db.write() as s:
        return content.commit(s, account, staged, rt.clock.now_ms())


def test_the_import_job_imports_an_uploaded_zip_and_forgets_the_password(
    runtime: Runtime, tmp_path: Path
) -> None:
    account = vault_user(runtime)
    xml = sbr_file(tmp_path, n=4).read_bytes()
    zipped = zip_of(tmp_path / "backup.zip", {"phone/sms-1.xml": xml}).read_bytes()
    content_id = stored_upload(runtime, account, zipped)
    job_id = imports.enqueue_import(
        runtime, account, content_id, filename="backup.zip", password="hunter2"
    )
    with runtime.db.read() as s:
        payload = s.get(Job, job_id).payload
    assert "hunter2" not in str(payload) and payload["password"]["wrapped"]
    make_worker(runtime).run_until_idle()
    status = imports.import_status(runtime, account, job_id)
    assert status.state == "done", status.error
    assert status.counts["imported"] == 5 and status.progress["fraction"] == 1.0
    with runtime.db.read() as s:
        assert "password" not in s.get(Job, job_id).payload
    assert count(runtime, Message, account) == 5


def test_a_failed_job_still_counts_what_it_stored(runtime: Runtime, tmp_path: Path) -> None:
    account = vault_user(runtime)
    good = sbr_file(tmp_path, n=5).read_bytes()
    bad = b"<smses count='3'>" + bytes(range(256)) * 4
    zipped = zip_of(tmp_path / "two.zip", {"p/sms-1.xml": good, "p/sms-2.xml": bad})
    job_id = imports.enqueue_import(
        runtime, account, stored_upload(runtime, account, zipped.read_bytes()), filename="two.zip"
    )
    make_worker(runtime).run_until_idle()
    status = imports.import_status(runtime, account, job_id)
    assert status.state == "failed" and status.error and "sms-2.xml" in status.error
    assert status.counts["imported"] == 6 == count(runtime, Message, account)


def test_an_unreadable_upload_fails_its_job_once_with_the_reason(runtime: Runtime) -> None:
    account = vault_user(runtime)
    content_id = stored_upload(runtime, account, b"\x00\x01 this is no backup " * 10)
    job_id = imports.enqueue_import(runtime, account, content_id, filename="sms.xml")
    make_worker(runtime).run_until_idle()
    status = imports.import_status(runtime, account, job_id)
    assert status.state == "failed"
    assert status.error and "sms.xml" in status.error


def test_imports_are_only_their_accounts(runtime: Runtime) -> None:
    alice, bob = vault_user(runtime, "alice"), vault_user(runtime, "bob")
    content_id = stored_upload(runtime, alice, b"<smses count='0'></smses>")
    with pytest.raises(Exception, match="no such content"):
        imports.enqueue_import(runtime, bob, content_id)
    job_id = imports.enqueue_import(runtime, alice, content_id)
    with pytest.raises(Exception, match="no such import"):
        imports.import_status(runtime, bob, job_id)
    assert imports.imports_of(runtime, bob) == []
    assert imports.imports_of(runtime, alice) == [job_id]


def sample(name: str) -> Path:
    path = SAMPLES / "sms-backup-restore" / name
    if not path.exists():
        missing(f"sample file {path} is absent (../shared/samples is not beside the project)")
    return path


def test_the_real_truncated_file_imports_its_49_complete_records_once(runtime: Runtime) -> None:
    account = vault_user(runtime)
    path = sample("sms_and_mms.xml")
    first = run_import(runtime, account, [path])
    assert (first.messages, first.imported, first.duplicates) == (49, 49, 0)
    wheres = [p["where"] for p in first.problem_list]
    assert first.problems == 2 and any("line 136" in w for w in wheres)
    with runtime.db.read() as s:
        pictures = s.execute(
            select(MessagePart.content_id).where(
                MessagePart.account_id == account, MessagePart.content_type == "image/png"
            )
        ).all()
        vault = vault_for(s, runtime.store, runtime.keyring, account)
        images = [
            b"".join(content.read_range(vault, content.chunk_list(s, p.content_id)))
            for p in pictures
        ]
    assert len(images) == 2 and all(i.startswith(b"\x89PNG\r\n\x1a\n") for i in images)
    again = run_import(runtime, account, [path])
    assert (again.imported, again.duplicates) == (0, 49)
    assert count(runtime, Message, account) == 49


def test_broken_attachments_lose_only_themselves(runtime: Runtime) -> None:
    account = vault_user(runtime)
    report = run_import(runtime, account, [sample("corrupt_attachments.xml")])
    assert report.imported == report.messages > 0 and report.problems == 2
    assert all("not valid base64" in p["message"] for p in report.problem_list)
    assert count(runtime, Message, account) == report.messages


def test_a_record_repeated_byte_for_byte_is_stored_once(runtime: Runtime, tmp_path: Path) -> None:
    account = vault_user(runtime)
    twice = sms(body="twice", date=str(T0))
    path = write(tmp_path / "sms.xml", smses(twice, sms(body="between"), twice))
    report = run_import(runtime, account, [path])
    assert (report.imported, report.problems) == (2, 1)
    assert sorted(bodies(runtime, account)) == ["between", "twice"]


def stored_rows(rt: Runtime, account_id: int) -> list[tuple[object, ...]]:
    """What the vault holds of each message, with its conversation's participants."""
    with rt.db.read() as s:
        rows = s.execute(
            select(
                Message.date,
                Message.direction,
                Message.body,
                Message.fingerprint,
                Message.extra,
                Message.part_count,
                Message.conversation_id,
            )
            .where(Message.account_id == account_id)
            .order_by(Message.date)
        ).all()
        members = {
            cid: sorted(
                s.scalars(
                    select(Handle.value)
                    .join(ConversationParticipant, ConversationParticipant.handle_id == Handle.id)
                    .where(ConversationParticipant.conversation_id == cid)
                )
            )
            for cid in {r.conversation_id for r in rows}
        }
    return [(*r[:-1], members[r.conversation_id]) for r in rows]


def mixed_file(tmp_path: Path) -> Path:
    """Texts to and from several people, the owner among the MMS addresses, an MMS with only
    text, one with a picture, extra attributes, and one message that is refused."""
    picture = base64.b64encode(PNG).decode()
    records = [
        sms(body=f" text {i}\u0301 ", date=str(T0 + i * 1000), type=str(1 + i % 2), address=who)
        for i, who in enumerate(["(555) 010-0001", "+15550100002", "555.010.0001"])
    ]
    records.append(sms(body="no sender", date=str(T0 + 9000), type="1", address=""))
    records.append(
        mms(
            [part(text="only words")],
            [("+15550100003", 137), ("+15550100099", 151), ("+15550100004", 151)],
            date=str(T0 + 10_000),
        )
    )
    records.append(
        mms(
            [part(ct="image/png", name="cat.png", text="null", data=picture)],
            [("+15550100099", 137), ("+15550100003", 151)],
            date=str(T0 + 11_000),
            msg_box="2",
        )
    )
    return write(tmp_path / "mixed.xml", smses(*records))


def test_messages_prepared_in_the_reading_process_are_stored_as_if_prepared_here(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = mixed_file(tmp_path)
    here = vault_user(runtime, phone_numbers=["+15550100099"])
    beside = vault_user(runtime, "bob", phone_numbers=["+15550100099"])
    first = run_import(runtime, here, [path])
    monkeypatch.setattr(reading, "CHILD_ABOVE", 0)
    second = run_import(runtime, beside, [path])
    assert (second.imported, second.skipped) == (first.imported, first.skipped) == (5, 1)
    assert second.skipped_list == first.skipped_list
    assert stored_rows(runtime, beside) == stored_rows(runtime, here)
    assert any(r[4] for r in stored_rows(runtime, here))  # extra attributes were kept


def test_messages_prepared_under_other_settings_are_prepared_again(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = mixed_file(tmp_path)
    account = vault_user(runtime, phone_numbers=["+15550100099"])
    real_read_options = imports.read_options

    def stale(*args: object, **kwargs: object) -> ReadOptions:
        # As if the owner's number changed between reading and storing.
        return replace(real_read_options(*args, **kwargs), owner_numbers=())  # type: ignore[arg-type]

    monkeypatch.setattr(reading, "CHILD_ABOVE", 0)
    monkeypatch.setattr(imports, "read_options", stale)
    run_import(runtime, account, [path])
    groups = {tuple(r[-1]) for r in stored_rows(runtime, account)}
    assert all("+15550100099" not in g for g in groups)
    assert ("+15550100003", "+15550100004") in groups


def test_a_prepared_record_crosses_a_pipe_whole() -> None:
    rec = MessageRecord(
        "sms", "in", T0, body=" hi ", sender="(555) 010-0001", extra={"sub_id": "1"}
    )
    preparing.attach(rec, "US", frozenset({"+15550100099"}))
    back = pickle.loads(pickle.dumps(rec))
    assert back == rec and back.prepared == rec.prepared
    assert rec.prepared is not None and rec.prepared.extra_json == '{"sub_id":"1"}'
    assert rec.extra == {}
    assert rec.prepared.participants == ("+15550100001",)
    refused = MessageRecord("sms", "in", T0, body="no sender")
    assert (
        preparing.attach(refused, "US", frozenset(), preparing.RowSettings((0, ""), "x")) is refused
    )
    assert refused.prepared is None


def test_a_message_made_ready_crosses_a_pipe_as_a_plain_tuple() -> None:
    """With row settings, a message without parts or reactions is handed over as a plain
    tuple, and comes back with the record's fields the ingest reads; one with reactions stays a
    record (its row made)."""
    rows = preparing.RowSettings((0, ""), "sbr-xml")
    rec = MessageRecord(
        "sms", "in", T0, body=" hi ", sender="(555) 010-0001", read=False, group_title="Team"
    )
    handed = preparing.attach(rec, "US", frozenset({"+15550100099"}), rows)
    assert type(handed) is tuple
    ready = preparing.as_ready(pickle.loads(pickle.dumps(handed)))
    assert (ready.kind, ready.direction, ready.date_ms, ready.date_precision) == (
        "sms",
        "in",
        T0,
        "ms",
    )
    assert (ready.read, ready.group_title, ready.sender) == (False, "Team", "+15550100001")
    assert ready.participants == ("+15550100001",) and ready.parts == ready.reactions == ()
    assert ready.settings == preparing.settings_key("US", {"+15550100099"}, rows)
    assert dict(zip(preparing.TAIL_COLUMNS, ready.tail, strict=True))["body"] == "hi"
    liked = MessageRecord("sms", "out", T0, body="yes", participants=["+15550100001"])
    liked.reactions.append(ReactionRecord("g", "love", "+15550100001", T0 + 1))
    assert preparing.attach(liked, "US", frozenset(), rows) is liked
    assert liked.prepared is not None and liked.prepared.tail is not None


def test_a_message_made_ready_under_other_settings_is_refused_not_stored_wrongly(
    runtime: Runtime,
) -> None:
    """What a reading process made ready cannot be prepared again: under settings other than
    the run's (another owner), the ingest refuses it, naming why, and stores nothing."""
    account = vault_user(runtime, phone_numbers=["+15550100099"])
    rec = MessageRecord("sms", "in", T0, body="hi", sender="+15550100001")
    elsewhere = preparing.attach(rec, "US", frozenset(), preparing.RowSettings((0, ""), "sbr-xml"))
    assert type(elsewhere) is tuple
    [outcome] = store_records(runtime, account, [preparing.as_ready(elsewhere)])
    assert outcome.status == "rejected" and outcome.problem is not None
    assert "prepared under other account settings" in outcome.problem["detail"]
    assert count(runtime, Message, account) == 0


def test_copies_are_found_across_many_seconds_and_only_in_their_own(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More runs of seconds than one statement reads (SQLite reads the seconds of a batch), and
    a message a second or a millisecond away from a stored one is another message."""
    monkeypatch.setattr(imports, "BATCH", 1000)
    account = vault_user(runtime)
    spread = [sms(body=f"m{i}", date=str(T0 + i * 61_000)) for i in range(900)]
    first = run_import(runtime, account, [write(tmp_path / "a.xml", smses(*spread))])
    assert first.imported == 900
    near = [
        sms(body="m1", date=str(T0 + 61_000 + 1000)),  # a second later
        sms(body="m2", date=str(T0 + 122_000 - 1)),  # a millisecond earlier, another second
    ]
    again = run_import(runtime, account, [write(tmp_path / "b.xml", smses(*near, *spread))])
    assert (again.imported, again.duplicates) == (2, 900)
    assert count(runtime, Message, account) == 902


def message_rows(rt: Runtime, account_id: int) -> list[tuple[object, ...]]:
    """Every message of the account as stored, from ``kind`` on, in date order."""
    columns = [getattr(Message, c) for c in preparing.TAIL_COLUMNS if c != "read"]
    with rt.db.read() as s:
        rows = s.execute(
            select(*columns, Message.read)
            .where(Message.account_id == account_id)
            .order_by(Message.date, Message.body)
        ).all()
    return [tuple(bytes(v) if isinstance(v, bytes | memoryview) else v for v in r) for r in rows]


def test_rows_made_by_the_reading_process_are_the_rows_made_here(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reading process makes the rows of messages without parts (SQLite): the same files
    imported through one and read in this process store the same rows, NULLs and all."""
    picture = base64.b64encode(PNG).decode()
    xml = write(
        tmp_path / "sms-variety.xml",
        smses(
            sms(body="plain", date=str(T0), date_sent="0"),
            sms(body="sent", date=str(T0 + 1000), type="2", read="0", subject="Re: lunch"),
            sms(body="unread", date=str(T0 + 2000), read="0", address="+15550100002"),
            mms(
                [part(ct="image/png", name="cat.png", text="null", data=picture), part(text="cat")],
                [("+15550100001", 137), ("+15550100099", 151)],
                date=str(T0 + 3000),
            ),
        ),
    )
    chat = liked_chat(tmp_path / "chat.db", 6, "question {i}?")
    made_here: list[int] = []
    real_row_tail = preparing.row_tail

    def row_tail(*args: Any) -> tuple[Any, ...]:
        made_here.append(1)
        return real_row_tail(*args)

    monkeypatch.setattr(preparing, "row_tail", row_tail)
    here = vault_user(runtime, name="here")
    run_import(runtime, here, [xml, chat])
    assert len(made_here) == 10  # in this process: every message's row
    made_here.clear()
    monkeypatch.setattr(reading, "CHILD_ABOVE", 0)
    child = vault_user(runtime, name="child")
    run_import(runtime, child, [xml, chat])
    # through a reading process: on SQLite only the MMS's row is made here (after its parts)
    assert len(made_here) == (1 if runtime.db.is_sqlite else 10)
    assert message_rows(runtime, child) == message_rows(runtime, here)
    assert len(message_rows(runtime, here)) == 10
    assert conversations(runtime, child) == conversations(runtime, here)
    assert reactions(runtime, child) == reactions(runtime, here)
    assert any(c[3] for c in conversations(runtime, here))  # "unread" is
    assert len(reactions(runtime, here)) == 6


def conversations(rt: Runtime, account_id: int) -> list[tuple[object, ...]]:
    """The account's conversations with their summaries."""
    with rt.db.read() as s:
        rows = s.execute(
            select(
                Conversation.participants_key,
                Conversation.title,
                Conversation.message_count,
                Conversation.unread_count,
                Conversation.snippet,
            ).where(Conversation.account_id == account_id)
        ).all()
    return sorted(tuple(r) for r in rows)


def reactions(rt: Runtime, account_id: int) -> list[tuple[object, ...]]:
    """The account's reactions, with the body of the message each is on."""
    with rt.db.read() as s:
        rows = s.execute(
            select(Message.body, Reaction.reaction)
            .join(Reaction, Reaction.message_id == Message.id)
            .where(Message.account_id == account_id)
        ).all()
    return sorted(tuple(r) for r in rows)


def test_batches_staged_ahead_keep_their_order_parts_and_reactions(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch's attachments are staged while the batch before it is stored: with batches of
    three, every picture is stored whole with its own message, each tapback finds its target
    even when that target's batch was still in flight, and the copies of a second file, in
    another order, are found."""
    monkeypatch.setattr(imports, "BATCH", 3)
    account = vault_user(runtime)
    pictures = [PNG + bytes([i]) * (i + 1) for i in range(7)]
    records = [
        mms(
            [
                part(
                    ct="image/png", name=f"p{i}.png", text="null", data=base64.b64encode(p).decode()
                ),
                part(text=f"picture {i}"),
            ],
            [("+15550100001", 137), ("+15550100099", 151)],
            date=str(T0 + i * 1000),
        )
        for i, p in enumerate(pictures)
    ]
    first = write(tmp_path / "mms.xml", smses(*records))
    copy = write(tmp_path / "copy.xml", smses(*records[4:], *records[:4]))
    report = run_import(runtime, account, [first, copy])
    assert (report.imported, report.duplicates, report.parts) == (7, 7, 14)
    with runtime.db.read() as s:
        stored = s.execute(
            select(Message.body, MessagePart.content_id)
            .join(MessagePart, MessagePart.message_id == Message.id)
            .where(Message.account_id == account, MessagePart.content_type == "image/png")
            .order_by(Message.date)
        ).all()
        vault = vault_for(s, runtime.store, runtime.keyring, account)
        images = [
            b"".join(content.read_range(vault, content.chunk_list(s, row.content_id)))
            for row in stored
        ]
    assert [row.body for row in stored] == [f"picture {i}" for i in range(7)]
    assert images == pictures

    path = liked_chat(tmp_path / "chat.db", 8, "question {i}?")
    account = vault_user(runtime, name="tapper")
    report = run_import(runtime, account, [path])
    assert (report.imported, report.reactions) == (8, 8)
    with runtime.db.read() as s:
        liked = s.scalars(
            select(Message.body)
            .join(Reaction, Reaction.message_id == Message.id)
            .where(Message.account_id == account, Reaction.reaction == "like")
            .order_by(Message.date)
        ).all()
    assert liked == [f"question {i}?" for i in range(8)]
