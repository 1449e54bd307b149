from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom.formats import messages_db, reading
from strongroom.formats.base import BadInput, ReadOptions
from strongroom.formats.messages_db import MessagesDbReader
from strongroom.messages.records import (
    Expected,
    MessageRecord,
    Problem,
    ReactionRecord,
    Record,
)
from tests.conftest import SAMPLES, missing
from tests.formats.apple_fixtures import MessagesDb, apple_ns, apple_s, attributed_body

T0 = 1_700_000_000_123


def read(path: Path, **extra: str) -> list[Record]:
    return list(MessagesDbReader().read(path, ReadOptions(extra=extra)))


def messages(records: list[Record]) -> list[MessageRecord]:
    return [r for r in records if isinstance(r, MessageRecord)]


def problems(records: list[Record]) -> list[Problem]:
    return [r for r in records if isinstance(r, Problem)]


@pytest.fixture
def db(tmp_path: Path) -> MessagesDb:
    return MessagesDb(tmp_path / "sms.db")


def one_to_one(db: MessagesDb, ident: str = "+15550100001", service: str = "iMessage") -> int:
    return db.chat([db.handle(ident, service)], service=service)


def test_text_column_and_attributed_body_both_give_the_body(db: MessagesDb) -> None:
    chat = one_to_one(db)
    long_text = "ü" * 40_000  # 80,000 UTF-8 bytes: needs the 0x82 length form
    db.message(chat, text="plain", handle_id=1)
    db.message(chat, text=None, attributedBody=attributed_body("only in the blob"), handle_id=1)
    db.message(chat, text="", attributedBody=attributed_body(long_text), handle_id=1)
    db.close()
    bodies = [m.body for m in messages(read(db.path))]
    assert bodies == ["plain", "only in the blob", long_text]


def test_dates_in_nanoseconds_and_seconds_are_decided_per_value(db: MessagesDb) -> None:
    chat = one_to_one(db)
    db.message(chat, text="new", date=apple_ns(T0), date_read=apple_ns(T0 + 5000), is_read=1)
    db.message(chat, text="old", date=apple_s(T0), date_delivered=apple_s(T0 + 2000))
    db.close()
    new, old = messages(read(db.path))
    assert (new.date_ms, new.date_precision, new.date_read_ms) == (T0, "ms", T0 + 5000)
    assert (old.date_ms, old.date_precision) == (T0 - 123, "s")
    assert old.date_delivered_ms == T0 + 2000 - 123
    assert new.extra["apple_date"] == str(apple_ns(T0))


def test_direction_sender_and_read_state(db: MessagesDb) -> None:
    chat = one_to_one(db, "alice@example.com")
    db.message(chat, text="to me, unread", handle_id=1, is_read=0)
    db.message(chat, text="to me, read", handle_id=1, is_read=1)
    db.message(chat, text="from me", handle_id=1, is_from_me=1, is_sent=1)
    db.message(chat, text="failed", handle_id=1, is_from_me=1, error=4)
    db.close()
    unread, seen, mine, failed = messages(read(db.path))
    assert (unread.direction, unread.sender, unread.read) == ("in", "alice@example.com", False)
    assert seen.read is True and seen.status == "received"
    assert (mine.direction, mine.sender, mine.read, mine.status) == ("out", None, True, "sent")
    assert mine.participants == ["alice@example.com"]
    assert failed.status == "failed"


def test_service_decides_the_kind(db: MessagesDb, tmp_path: Path) -> None:
    (tmp_path / "Attachments").mkdir()
    (tmp_path / "Attachments" / "a.jpg").write_bytes(b"\xff\xd8jpeg")
    sms = one_to_one(db, "+15550100002", "SMS")
    group = db.chat([db.handle("+15550100003", "SMS"), db.handle("+15550100004", "SMS")])
    rcs = one_to_one(db, "+15550100005", "RCS")
    imessage = one_to_one(db, "bob@example.com")
    db.message(sms, text="sms", service="SMS", handle_id=1)
    picture = db.message(sms, text="\ufffc", service="SMS", handle_id=1)
    db.attachment(picture, "~/Library/SMS/Attachments/a.jpg", "image/jpeg", "a.jpg")
    db.message(group, text="group sms", service="SMS", handle_id=2)
    db.message(rcs, text="rcs", service="RCS", handle_id=4)
    db.message(imessage, text="imessage", service="iMessage", handle_id=5)
    db.close()
    kinds = [(m.body, m.kind) for m in messages(read(db.path))]
    assert kinds == [
        ("sms", "sms"),
        ("", "mms"),
        ("group sms", "mms"),
        ("rcs", "rcs"),
        ("imessage", "imessage"),
    ]


def test_group_chat_has_title_and_every_participant(db: MessagesDb) -> None:
    members = [db.handle("+15550100011"), db.handle("carol@example.com"), db.handle("+15550100013")]
    chat = db.chat(members, display_name="Climbing")
    db.message(chat, text="hi all", handle_id=members[1])
    db.message(chat, text="hi", is_from_me=1)
    db.close()
    received, sent = messages(read(db.path))
    assert received.group_title == sent.group_title == "Climbing"
    expected = ["+15550100011", "carol@example.com", "+15550100013"]
    assert received.participants == sent.participants == expected
    assert received.sender == "carol@example.com"


def test_tapbacks_become_reactions_on_their_target_not_messages(db: MessagesDb) -> None:
    chat = one_to_one(db)
    target = "TARGET-GUID-1"
    db.message(chat, guid=target, text="dinner?", is_from_me=1)
    db.message(
        chat,
        text="Loved “dinner?”",
        handle_id=1,
        associated_message_guid=f"p:0/{target}",
        associated_message_type=2000,
        date=apple_ns(T0 + 1),
    )
    db.message(chat, text="", is_from_me=1, associated_message_guid=f"bp:{target}",
               associated_message_type=2003)  # fmt: skip
    db.message(chat, text="", handle_id=1, associated_message_guid=f"p:0/{target}",
               associated_message_type=3000)  # fmt: skip
    db.message(chat, text="", handle_id=1, associated_message_guid=f"p:0/{target}",
               associated_message_type=2006, associated_message_emoji="🧗")  # fmt: skip
    db.close()
    records = read(db.path)
    assert records[0] == Expected(5)  # every row, the tapbacks too: they come as records
    assert [m.body for m in messages(records)] == ["dinner?"]
    reactions = [r for r in records if isinstance(r, ReactionRecord)]
    assert [(r.target_guid, r.reaction, r.sender, r.removed) for r in reactions] == [
        (target, "love", "+15550100001", False),
        (target, "laugh", None, False),
        (target, "love", "+15550100001", True),
        (target, "🧗", "+15550100001", False),
    ]
    assert reactions[0].date_ms == T0 + 1
    # Each carries its target's date, by which the vault finds the target.
    assert {r.target_date_ms for r in reactions} == {messages(records)[0].date_ms}


def test_tapbacks_carry_their_targets_dates_looked_up_a_few_at_a_time(
    db: MessagesDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(messages_db, "_TARGETS_AT_ONCE", 2)  # lookups of two, and a rest of one
    chat = one_to_one(db)
    for i in range(3):
        db.message(chat, guid=f"T{i}", text=f"m{i}", handle_id=1, date=apple_ns(T0 + i * 1000))
        db.message(chat, text="", is_from_me=1, associated_message_guid=f"p:0/T{i}",
                   associated_message_type=2001, date=apple_ns(T0 + i * 1000 + 500))  # fmt: skip
    db.message(chat, text="", is_from_me=1, associated_message_guid="p:0/GONE",
               associated_message_type=2001, date=apple_ns(T0 + 9000))  # fmt: skip
    db.close()
    records = read(db.path)
    reactions = [r for r in records if isinstance(r, ReactionRecord)]
    assert [(r.target_guid, r.target_date_ms) for r in reactions] == [
        ("T0", T0),
        ("T1", T0 + 1000),
        ("T2", T0 + 2000),
        ("GONE", None),  # not in the database: the vault looks for it by guid alone
    ]
    assert [m.body for m in messages(records)] == ["m0", "m1", "m2"]


def test_reply_links_to_its_thread_originator(db: MessagesDb) -> None:
    chat = one_to_one(db)
    db.message(chat, guid="ORIGIN", text="question", handle_id=1)
    db.message(chat, text="answer", is_from_me=1, thread_originator_guid="ORIGIN")
    db.close()
    origin, reply = messages(read(db.path))
    assert (origin.reply_to_guid, reply.reply_to_guid) == (None, "ORIGIN")


def test_placeholders_map_to_attachments_in_order(tmp_path: Path) -> None:
    blob_path = SAMPLES / "ios-attributed-body" / "MultiPart"
    if not blob_path.is_file():
        missing(f"sample {blob_path} is absent")
    folder = tmp_path / "Attachments" / "ab" / "01"
    folder.mkdir(parents=True)
    db = MessagesDb(tmp_path / "chat.db")
    chat = one_to_one(db)
    row = db.message(chat, attributedBody=blob_path.read_bytes(), handle_id=1)
    for i in (1, 2, 3):
        (folder / f"p{i}.png").write_bytes(f"picture {i}".encode())
        db.attachment(row, f"~/Library/Messages/Attachments/ab/01/p{i}.png", None, f"p{i}.png")
    db.close()
    (message,) = messages(read(db.path))
    assert message.body == "test 1test 2 test 3"
    assert [p.content.read() for p in message.parts] == [b"picture 1", b"picture 2", b"picture 3"]
    assert [p.extra["text_offset"] for p in message.parts] == ["0", "6", "13"]
    assert [p.content_type for p in message.parts] == ["image/png"] * 3
    assert [p.filename for p in message.parts] == ["p1.png", "p2.png", "p3.png"]


def test_missing_and_escaping_attachments_are_problems_not_failures(tmp_path: Path) -> None:
    db = MessagesDb(tmp_path / "sms.db")
    chat = one_to_one(db)
    row = db.message(chat, text="\ufffc\ufffc see", handle_id=1)
    db.attachment(row, "~/Library/SMS/Attachments/xx/gone.jpg", "image/jpeg")
    db.attachment(row, "~/Library/SMS/Attachments/../../../../etc/passwd", "text/plain")
    db.message(chat, text="next", handle_id=1)
    db.close()
    records = read(db.path)
    assert [(m.body, m.parts) for m in messages(records)] == [(" see", []), ("next", [])]
    found = [p.message for p in problems(records)]
    assert any("missing" in p and "gone.jpg" in p for p in found)
    assert any("'..'" in p for p in found)
    assert all(p.where == "sms.db message row 1" for p in problems(records))


def test_attachments_root_can_be_given_by_the_caller(tmp_path: Path) -> None:
    elsewhere = tmp_path / "copied-messages-folder"
    (elsewhere / "Attachments").mkdir(parents=True)
    (elsewhere / "Attachments" / "v.mov").write_bytes(b"movie")
    db = MessagesDb(tmp_path / "chat.db")
    row = db.message(one_to_one(db), text="\ufffc", handle_id=1)
    db.attachment(row, "/Users/x/Library/Messages/Attachments/v.mov", "video/quicktime")
    db.close()
    (message,) = messages(read(db.path, attachments_root=str(elsewhere)))
    assert message.parts[0].content.read() == b"movie"


def test_same_person_under_phone_and_email_stays_two_linked_handles(db: MessagesDb) -> None:
    phone = db.handle("+15550100021", person="PERSON-1")
    email = db.handle("dana@example.com", person="PERSON-1")
    by_phone, by_email = db.chat([phone]), db.chat([email])
    db.message(by_phone, text="from the phone", handle_id=phone)
    db.message(by_email, text="from the mac", handle_id=email)
    db.close()
    first, second = messages(read(db.path))
    assert (first.sender, second.sender) == ("+15550100021", "dana@example.com")
    assert first.extra["person_centric_id"] == second.extra["person_centric_id"] == "PERSON-1"
    assert json.loads(second.extra["participant_person_ids"]) == {"dana@example.com": "PERSON-1"}


def test_group_events_are_not_messages(db: MessagesDb) -> None:
    chat = db.chat([db.handle("+15550100031"), db.handle("+15550100032")])
    db.message(chat, text=None, item_type=2, group_title="New name", is_from_me=1)
    db.message(chat, text="real", handle_id=1)
    db.close()
    assert [m.body for m in messages(read(db.path))] == ["real"]


def test_legacy_schema_without_newer_columns(tmp_path: Path) -> None:
    db = MessagesDb(tmp_path / "sms.db", legacy=True)
    chat = one_to_one(db, "+15550100041", "SMS")
    db.message(chat, text="2012 message", service="SMS", handle_id=1, date=apple_s(T0))
    db.close()
    (message,) = messages(read(db.path))
    assert (message.body, message.kind, message.date_precision) == ("2012 message", "sms", "s")
    assert message.reply_to_guid is None and message.group_title is None


def test_rows_still_in_the_wal_are_read_and_the_users_files_untouched(tmp_path: Path) -> None:
    db = MessagesDb(tmp_path / "chat.db")
    db.message(one_to_one(db), text="checkpointed", handle_id=1)
    db.close()
    live = sqlite3.connect(db.path, isolation_level=None)  # noqa: TID251 - a foreign file
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("PRAGMA wal_autocheckpoint=0")
    live.execute("INSERT INTO message (guid, text, handle_id, date) VALUES ('W', 'in wal', 1, 1)")
    upload = tmp_path / "upload"
    upload.mkdir()
    for name in ("chat.db", "chat.db-wal"):  # what a user copies from a running Mac
        shutil.copyfile(tmp_path / name, upload / name)
    live.close()
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in upload.iterdir()}
    assert [m.body for m in messages(read(upload / "chat.db"))] == ["checkpointed", "in wal"]
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in upload.iterdir()}
    assert after == before


def test_a_database_opened_ahead_of_its_options_reads_the_same(tmp_path: Path) -> None:
    reader = MessagesDbReader()
    db = MessagesDb(tmp_path / "sms.db")
    chat = one_to_one(db)
    for i in range(3):
        db.message(chat, text=f"m{i}", handle_id=1, date=apple_ns(T0 + i))
    db.close()
    ahead = reader.open_ahead(db.path)
    assert ahead is not None  # checked, before any option is known
    records = list(reader.read(db.path, ReadOptions(), ahead=ahead))
    assert records == read(db.path) and [m.body for m in messages(records)] == ["m0", "m1", "m2"]
    with pytest.raises(sqlite3.ProgrammingError):
        ahead.conn.execute("SELECT 1")  # closed when the reading ended

    (tmp_path / "sms.db-wal").write_bytes(b"x" * 100)  # read from a copy in the scratch folder
    assert reader.open_ahead(db.path) is None
    (tmp_path / "sms.db-wal").unlink()
    damaged = tmp_path / "damaged" / "sms.db"
    damaged.parent.mkdir()
    damaged.write_bytes(db.path.read_bytes()[: 4096 + 100])
    assert reader.open_ahead(damaged) is None  # read() says why
    with pytest.raises(BadInput, match="sms.db"):
        read(damaged)


def test_a_reading_process_reads_a_database_it_opened_while_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "CHILD_ABOVE", 0)
    db = MessagesDb(tmp_path / "sms.db")
    chat = one_to_one(db)
    for i in range(600):
        db.message(chat, text=f"m{i}", handle_id=1, date=apple_ns(T0 + i))
    db.close()
    reader = MessagesDbReader()
    reading.start_early(reader, db.path)
    with reading.batches(reader, db.path, ReadOptions(), in_child=True) as source:
        got = [r.body for batch in source.batches for r in batch if isinstance(r, MessageRecord)]
    assert got == [f"m{i}" for i in range(600)]


def test_a_database_without_message_tables_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)  # noqa: TID251 - a foreign file
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(BadInput, match=r"other\.db: not a Messages database"):
        read(path)
    assert not MessagesDbReader().sniff(path)


def test_sniff_knows_messages_databases_by_name_or_tables(tmp_path: Path) -> None:
    db = MessagesDb(tmp_path / "renamed.sqlite")
    db.close()
    (tmp_path / "sms.db").write_bytes(b"not sqlite")
    assert MessagesDbReader().sniff(db.path)
    assert not MessagesDbReader().sniff(tmp_path / "sms.db")


def test_broken_attributed_body_is_a_problem_and_the_message_stays(db: MessagesDb) -> None:
    chat = one_to_one(db)
    db.message(chat, attributedBody=b"\x04\x0bstreamtypedNSString\x84\x01+\x95", handle_id=1)
    db.close()
    records = read(db.path)
    assert [m.body for m in messages(records)] == [""]
    assert "0x95 is not a string length" in problems(records)[0].message


def test_values_of_the_wrong_type_are_read_not_crashed_on(db: MessagesDb) -> None:
    chat = one_to_one(db)
    db.message(chat, text=12345, handle_id="1", date=str(apple_ns(T0)), is_read="yes")
    db.message(chat, text=None, attributedBody="not a blob", handle_id=b"\x01")
    db.message(chat, text="", associated_message_type="2000", associated_message_guid=42)
    db.message(chat, text="late", date="yesterday", date_read=1.5)
    db.close()
    records = read(db.path)
    first, second = messages(records)  # the third row is a reaction, the fourth has no date
    assert (first.body, first.date_ms, first.sender) == ("12345", T0, "+15550100001")
    assert second.body == ""  # a text in the blob column holds no NSString
    reaction = next(r for r in records if isinstance(r, ReactionRecord))
    assert reaction.target_guid == "42"
    assert any("without a date" in p.message for p in problems(records))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_damaged_databases_give_records_or_bad_input(tmp_path: Path, data: st.DataObject) -> None:
    source = tmp_path / "fuzz-source.db"
    if not source.exists():
        db = MessagesDb(source)
        chat = one_to_one(db)
        for i in range(30):
            db.message(chat, text=f"message {i}", attributedBody=attributed_body(f"body {i}"))
        db.close()
    raw = bytearray(source.read_bytes())
    for _ in range(data.draw(st.integers(1, 20))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(raw) // 2, len(raw)))
    target = tmp_path / "fuzz" / "sms.db"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(bytes(raw[:cut]))
    try:
        records = read(target)
    except BadInput as e:
        assert "sms.db" in str(e)
    else:
        # a database damaged where nothing is read (free pages, a cut-off tail) still reads,
        # starting with the count of its message rows
        kinds = (MessageRecord, Problem, ReactionRecord, Expected)
        assert all(isinstance(r, kinds) for r in records)
        assert not any(isinstance(r, Expected) for r in records[1:])
