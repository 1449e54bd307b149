"""The SMS Backup+ mail writer: the headers that app restores from, and lossless round trips."""

from __future__ import annotations

import email
import hashlib
import io
from email import policy
from pathlib import Path

import pytest

from strongroom.formats.sbr_xml import SbrXmlReader
from strongroom.formats.sms_backup_plus import SbpMboxReader
from strongroom.formats.sms_backup_plus_writer import SbpMboxWriter, render_message
from strongroom.messages.records import CallRecord, InlineContent, MessageRecord, PartRecord
from tests.conftest import SAMPLES, missing
from tests.formats.builders import PNG, read_all
from tests.formats.mail_builders import call_mail, mms_mail, sms_mail, write_mbox

MBOX = SbpMboxReader()


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)  # type: ignore[return-value]


def kept(record: MessageRecord):
    """What the mail form carries: everything but date_sent and subject."""
    return (
        record.kind,
        record.direction,
        record.date_ms,
        record.body,
        record.sender,
        sorted(record.participants),
        record.read,
        record.status,
        [(p.content_type, p.filename, p.content.read()) for p in record.parts],
    )


def sms_record(**changes) -> MessageRecord:
    values = dict(
        kind="sms",
        direction="in",
        date_ms=1700000000123,
        body="hello\r\nworld \U0001f600",
        sender="+15550100001",
        participants=["+15550100001"],
        read=False,
        source="ios-backup",
    )
    values.update(changes)
    return MessageRecord(**values)


def test_sms_message_carries_every_header_restore_reads():
    data = render_message(sms_record())
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    msg = parse(data)
    assert msg["X-smssync-datatype"] == "SMS"
    assert msg["X-smssync-address"] == "+15550100001"
    assert msg["X-smssync-type"] == "1"
    assert msg["X-smssync-date"] == "1700000000123"
    assert msg["X-smssync-read"] == "0"
    assert msg["X-smssync-status"] == "-1" and msg["X-smssync-protocol"] == "0"
    assert msg.get_content() == "hello\r\nworld \U0001f600"
    expected = hashlib.md5(b"1700000000123+155501000011", usedforsecurity=False).hexdigest()
    assert msg["Message-ID"] == f"<{expected}@sms-backup-plus.local>"
    assert msg["From"].addresses[0].addr_spec == "+15550100001@unknown.email"
    assert msg["Subject"] == "SMS with +15550100001"


def test_sent_sms_is_from_the_user_and_type_2():
    msg = parse(render_message(sms_record(direction="out", status="sent", sender=None), "me@x.org"))
    assert msg["X-smssync-type"] == "2" and str(msg["From"]) == "me@x.org"
    assert msg["To"].addresses[0].username == "+15550100001"


def test_call_message_carries_type_date_and_duration():
    call = CallRecord("+15550100001", 1700000200000, 3725, "outgoing", name="Ann")
    msg = parse(render_message(call))
    assert msg["X-smssync-datatype"] == "CALLLOG" and msg["X-smssync-type"] == "2"
    assert msg["X-smssync-date"] == "1700000200000" and msg["X-smssync-duration"] == "3725"
    assert msg.get_content() == "3725s (01:02:05)\n+15550100001 (outgoing call)"


def test_mms_message_has_its_parts_and_the_group_in_cc():
    record = MessageRecord(
        kind="mms",
        direction="in",
        date_ms=1700000100000,
        body="see",
        sender="+15550100001",
        participants=["+15550100001", "+15550100002"],
        parts=[PartRecord("image/png", InlineContent(PNG), "pic é.png")],
    )
    msg = parse(render_message(record))
    assert msg["X-smssync-datatype"] == "MMS" and msg["X-smssync-type"] == "132"
    assert msg["X-smssync-date"] == "1700000100"
    assert msg["Cc"].addresses[0].username == "+15550100002"
    attachment = next(msg.iter_attachments())
    assert attachment.get_filename() == "pic é.png"
    assert attachment.get_content() == PNG


def test_header_values_cannot_inject_headers():
    record = sms_record(sender="+1555\r\nBcc: evil@example.com", participants=["x\nBcc: y"])
    msg = parse(render_message(record))
    assert msg["Bcc"] is None


def test_non_ascii_addresses_are_encoded_and_read_back(tmp_path):
    record = sms_record(sender="Zoë", participants=["Zoë"])
    path = tmp_path / "a.mbox"
    with path.open("wb") as out:
        SbpMboxWriter().write([record], out)
    assert path.read_bytes().isascii()
    assert read_all(MBOX, path).messages[0].participants == ["Zoë"]


def test_built_records_survive_write_read(tmp_path):
    records = [
        sms_record(),
        sms_record(direction="out", status="sent", sender=None, read=True, body="From here"),
        MessageRecord(
            kind="mms",
            direction="out",
            date_ms=1700000300000,
            body="pic",
            participants=["+15550100002", "+15550100003"],
            status="sent",
            parts=[
                PartRecord("text/plain", InlineContent(b"pic"), "text_0.txt"),
                PartRecord("image/png", InlineContent(PNG), "p.png"),
            ],
        ),
        CallRecord("+15550100001", 1700000200000, 75, "missed"),
    ]
    path = tmp_path / "out.mbox"
    with path.open("wb") as out:
        SbpMboxWriter().write(records, out)
    again = read_all(MBOX, path)
    assert [kept(m) for m in again.messages] == [kept(m) for m in records[:3]]
    call = again.calls[0]
    assert (call.number, call.date_ms, call.duration_s, call.type) == (
        "+15550100001",
        1700000200000,
        75,
        "missed",
    )
    assert again.problems == []


def test_mail_read_from_the_app_survives_read_write_read(tmp_path):
    source = write_mbox(
        tmp_path / "in.mbox", sms_mail(), mms_mail(), mms_mail(outgoing=True), call_mail()
    )
    first = read_all(MBOX, source)
    path = tmp_path / "out.mbox"
    with path.open("wb") as out:
        SbpMboxWriter().write([*first.messages, *first.calls], out)
    again = read_all(MBOX, path)
    assert [kept(m) for m in again.messages] == [kept(m) for m in first.messages]
    assert again.messages[0].extra["X-smssync-thread"] == "12"  # kept headers go back out
    assert [c.duration_s for c in again.calls] == [75]


@pytest.mark.parametrize(
    "name", ["sms_and_mms.xml", "sms_small.xml", "sample_mms.xml", "sample_small.xml"]
)
def test_sbr_samples_survive_a_trip_through_mail(tmp_path, name):
    source = SAMPLES / "sms-backup-restore" / name
    if not source.exists():
        missing(f"sample file {source} is absent")
    first = read_all(SbrXmlReader(), source)
    out = io.BytesIO()
    SbpMboxWriter().write(first.messages, out)
    path = Path(tmp_path / "x.mbox")
    path.write_bytes(out.getvalue())
    again = read_all(MBOX, path)
    assert [kept(m) for m in again.messages] == [kept(m) for m in first.messages]
