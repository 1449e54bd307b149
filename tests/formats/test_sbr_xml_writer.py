"""The SMS Backup & Restore XML writers: valid XML the app restores, and lossless round trips."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree

from strongroom.formats.sbr_xml import SbrXmlReader
from strongroom.formats.sbr_xml_writer import SbrCallsWriter, SbrXmlWriter
from strongroom.messages.records import CallRecord, InlineContent, MessageRecord, PartRecord
from tests.conftest import SAMPLES, missing
from tests.formats.builders import PNG, call, calls, essence, mms, part, read_all, sms, smses, write

READER = SbrXmlReader()
SMS_ATTRIBUTES = (
    "protocol address date type subject body toa sc_toa service_center read status locked "
    "date_sent sub_id readable_date contact_name"
).split()
MMS_ATTRIBUTES = (
    "date rr sub ct_t read_status seen msg_box address sub_cs resp_st retr_st d_tm text_only "
    "exp locked m_id st retr_txt_cs retr_txt creator date_sent read m_size rpt_a ct_cls pri "
    "sub_id tr_id resp_txt ct_l m_cls d_rpt v m_type readable_date contact_name"
).split()
PART_ATTRIBUTES = "seq ct name chset cd fn cid cl ctt_s ctt_t text".split()


def write_messages(records, path: Path, **kwargs) -> Path:
    with path.open("wb") as out:
        SbrXmlWriter(**kwargs).write(records, out)
    return path


def round_trip(tmp_path: Path, source: Path):
    first = read_all(READER, source)
    again = read_all(READER, write_messages(first.messages, tmp_path / "again.xml"))
    return first, again


def from_elsewhere() -> list[MessageRecord]:
    """Records as another reader (an iPhone backup) would give them."""
    return [
        MessageRecord(
            kind="imessage",
            direction="in",
            date_ms=1700000000456,
            body='line 1\nline 2 <&> "quoted" \U0001f600 \x07bell',
            sender="+15550100001",
            participants=["+15550100001"],
            read=False,
            source="ios-backup",
            extra={"service": "iMessage"},
        ),
        MessageRecord(
            kind="imessage",
            direction="out",
            date_ms=1700000000999,
            date_sent_ms=1700000000000,
            body="look",
            participants=["+15550100001", "+15550100002"],
            status="sent",
            parts=[PartRecord("image/png", InlineContent(PNG), "IMG_1.png")],
            source="ios-backup",
        ),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "sms_and_mms.xml",
        "sms_small.xml",
        "sample_mms.xml",
        "sample_small.xml",
        "corrupt_attachments.xml",
        "empty.xml",
    ],
)
def test_samples_survive_read_write_read(tmp_path, name):
    source = SAMPLES / "sms-backup-restore" / name
    if not source.exists():
        missing(f"sample file {source} is absent")
    first, again = round_trip(tmp_path, source)
    assert [essence(m) for m in again.messages] == [essence(m) for m in first.messages]
    assert again.problems == []
    for before, after in zip(first.messages, again.messages, strict=True):
        assert before.extra.items() <= after.extra.items()


def test_every_attribute_of_a_full_file_is_written_back_as_it_was(tmp_path):
    """The app's default values are not kept in ``extra`` (most of what a stored SMS held
    besides its text), and the export still writes every attribute of every record as read."""
    source = SAMPLES / "sms-backup-restore" / "sms_small.xml"
    if not source.exists():
        missing(f"sample file {source} is absent")
    first = read_all(READER, source)
    written = write_messages(first.messages, tmp_path / "again.xml")
    before = [dict(e.attrib) for e in etree.parse(str(source)).getroot()]
    after = [dict(e.attrib) for e in etree.parse(str(written)).getroot()]
    assert len(before) == 12 and after == before
    assert all(b["toa"] == "null" and b["locked"] == "0" for b in before)
    assert not any({"toa", "locked", "sub_id"} & m.extra.keys() for m in first.messages)
    kept = {k for m in first.messages for k in m.extra}
    assert kept == {"readable_date", "contact_name", "service_center"}  # not the defaults


def test_built_quirks_survive_read_write_read(tmp_path):
    text = smses(
        sms(body="emoji &#55357;&#56832; and &#x11;control", sim_slot="1"),
        sms(type="2", read="0", body="multi&#10;line &amp; &lt;tags&gt; &quot;q&quot;"),
        mms(
            [
                part(
                    ct="image/png", name="p.png", data=__import__("base64").b64encode(PNG).decode()
                ),
                part(text="caption"),
            ],
            [("+15550100001", 137), ("+15550100007", 151), ("+15550100002", 130)],
            address="group@rcs",
        ),
        mms(
            [part(text="out")],
            [("insert-address-token", 137), ("+15550100003", 151)],
            msg_box="2",
            date_sent="1700000100",
        ),
    )
    first, again = round_trip(tmp_path, write(tmp_path / "q.xml", text))
    assert [essence(m) for m in again.messages] == [essence(m) for m in first.messages]
    assert again.messages[0].extra["sim_slot"] == "1"


def test_records_from_other_sources_survive_write_read(tmp_path):
    records = from_elsewhere()
    again = read_all(
        READER, write_messages(records, tmp_path / "x.xml", owner_number="+15550100007")
    )
    first, second = again.messages
    assert first.kind == "sms"  # text to one person restores as an SMS
    assert first.body == 'line 1\nline 2 <&> "quoted" \U0001f600 bell'  # no control character
    assert (first.read, first.sender, first.date_ms) == (False, "+15550100001", 1700000000456)
    assert second.kind == "mms" and second.direction == "out"
    assert second.participants == ["+15550100001", "+15550100002"]
    assert [p.content.read() for p in second.parts] == [PNG, b"look"]
    assert second.body == "look" and second.date_sent_ms == 1700000000000


def test_output_is_strict_utf8_xml_with_real_characters(tmp_path):
    text = smses(sms(body="&#55357;&#56832;"))
    first = read_all(READER, write(tmp_path / "in.xml", text))
    path = write_messages(first.messages + from_elsewhere(), tmp_path / "out.xml")
    data = path.read_bytes()
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
    assert "\U0001f600".encode() in data and b"&#55357;" not in data
    etree.fromstring(data)  # a strict parser accepts it as it is


def test_every_attribute_the_app_writes_is_present_in_its_order(tmp_path):
    path = write_messages(from_elsewhere(), tmp_path / "out.xml")
    root = etree.parse(str(path)).getroot()
    sms_element, mms_element = root
    assert list(sms_element.attrib) == SMS_ATTRIBUTES
    assert list(mms_element.attrib) == MMS_ATTRIBUTES
    for p in mms_element.iter("part"):
        assert list(p.attrib)[: len(PART_ATTRIBUTES)] == PART_ATTRIBUTES
    image = mms_element.find("parts/part")
    assert image.get("ct") == "image/png" and image.get("text") == "null" and image.get("data")
    assert [a.attrib for a in mms_element.iter("addr")] == [
        {"address": "insert-address-token", "type": "137", "charset": "106"},
        {"address": "+15550100001", "type": "151", "charset": "106"},
        {"address": "+15550100002", "type": "151", "charset": "106"},
    ]
    assert sms_element.get("readable_date") == "Nov 14, 2023 22:13:20"
    assert sms_element.get("contact_name") == "(Unknown)" and sms_element.get("read") == "0"
    assert mms_element.get("date_sent") == "1700000000" and mms_element.get("m_type") == "128"


def test_count_is_patched_in_on_a_seekable_output(tmp_path):
    path = write_messages(from_elsewhere(), tmp_path / "out.xml")
    assert etree.parse(str(path)).getroot().get("count") == "2"


def test_count_is_taken_as_given_on_a_stream(tmp_path):
    class Stream(io.BytesIO):
        def seekable(self) -> bool:
            return False

    out = Stream()
    SbrXmlWriter().write(from_elsewhere(), out, count=2)
    assert etree.fromstring(out.getvalue()).get("count") == "2"


def test_large_attachment_bytes_survive(tmp_path):
    big = bytes(range(256)) * 12000  # 3 MB: several base64 slices
    record = from_elsewhere()[1]
    record.parts = [PartRecord("video/mp4", InlineContent(big), "v.mp4")]
    again = read_all(READER, write_messages([record], tmp_path / "out.xml"))
    assert again.messages[0].parts[0].content.read() == big


def test_calls_go_in_their_own_file_and_survive_a_round_trip(tmp_path):
    text = calls(
        call(type="3", contact_name="Ann", presentation="1", post_dial_digits=""),
        call(type="7", duration="5"),
    )
    first = read_all(READER, write(tmp_path / "calls.xml", text))
    out = tmp_path / "calls-out.xml"
    with out.open("wb") as f:
        SbrCallsWriter().write([*first.calls, *first.messages], f)
    root = etree.parse(str(out)).getroot()
    assert root.tag == "calls" and root.get("count") == "2"
    again = read_all(READER, out)
    assert [(c.number, c.date_ms, c.duration_s, c.type, c.name) for c in again.calls] == [
        (c.number, c.date_ms, c.duration_s, c.type, c.name) for c in first.calls
    ]
    assert root[1].get("type") == "7"  # answered elsewhere: written back as it was


def test_message_writer_ignores_calls(tmp_path):
    records = [CallRecord("+1555", 1, 2, "missed"), *from_elsewhere()]
    path = write_messages(records, tmp_path / "out.xml")
    assert [e.tag for e in etree.parse(str(path)).getroot()] == ["sms", "mms"]
