"""The SMS Backup+ mail readers (mbox and .eml folders), on mail each test builds."""

from __future__ import annotations

import pytest

from strongroom.formats.base import BadInput
from strongroom.formats.sms_backup_plus import SbpEmlReader, SbpMboxReader
from tests.formats.builders import PNG, read_all
from tests.formats.mail_builders import call_mail, mbox, mms_mail, sms_mail, write_mbox

MBOX = SbpMboxReader()
EML = SbpEmlReader()


def test_sms_headers_map_faithfully_with_millisecond_dates(tmp_path):
    path = write_mbox(
        tmp_path / "sms.mbox",
        sms_mail(body="hi there\nsecond line"),
        sms_mail(type_="2", read="0", body="sent one"),
    )
    received, sent = read_all(MBOX, path).messages
    assert (received.kind, received.direction, received.status) == ("sms", "in", "received")
    assert received.sender == "+15550100001" and received.participants == ["+15550100001"]
    assert received.body == "hi there\nsecond line"
    assert (received.date_ms, received.date_precision) == (1700000000123, "ms")
    assert received.extra["X-smssync-thread"] == "12"
    assert received.extra["X-smssync-service_center"] == "+15550000000"
    assert (sent.direction, sent.status, sent.read, sent.sender) == ("out", "sent", False, None)
    assert received.source == "mbox"


def test_without_x_smssync_date_the_date_header_gives_second_precision(tmp_path):
    message = read_all(MBOX, write_mbox(tmp_path / "a.mbox", sms_mail(date=None))).messages[0]
    assert (message.date_ms, message.date_precision) == (1700000000000, "s")


def test_mms_with_attachment_dates_in_seconds_and_group_addresses(tmp_path):
    path = write_mbox(tmp_path / "mms.mbox", mms_mail(outgoing=True), mms_mail())
    result = read_all(MBOX, path)
    sent, received = result.messages
    assert (sent.kind, sent.direction, sent.status) == ("mms", "out", "sent")
    assert sent.participants == ["+15550100001", "bob@example.com"]
    assert (sent.date_ms, sent.date_precision) == (1700000100000, "s")
    assert sent.body == "look at this" and sent.read is False
    image = sent.parts[1]
    assert (image.content_type, image.filename, image.content.read()) == (
        "image/png",
        "pic.png",
        PNG,
    )
    assert received.direction == "in" and received.sender == "+15550100001"
    assert not result.problems


def test_owner_numbers_are_not_participants(tmp_path):
    text = mms_mail(outgoing=True).replace("bob@example.com", "+15550100007@unknown.email")
    result = read_all(MBOX, write_mbox(tmp_path / "m.mbox", text), owner_numbers=("5550100007",))
    assert result.messages[0].participants == ["+15550100001"]


def test_call_log_entries(tmp_path):
    result = read_all(MBOX, write_mbox(tmp_path / "c.mbox", call_mail(), call_mail(type_="3")))
    outgoing, missed = result.calls
    assert (outgoing.number, outgoing.type, outgoing.duration_s) == ("+15550100001", "outgoing", 75)
    assert (outgoing.date_ms, outgoing.name) == (1700000200000, "Ann Smith")
    assert missed.type == "missed"


def test_legacy_messages_without_datatype_are_told_by_their_type(tmp_path):
    legacy = sms_mail().replace("X-smssync-datatype: SMS\n", "")
    assert read_all(MBOX, write_mbox(tmp_path / "l.mbox", legacy)).messages[0].kind == "sms"


def test_ordinary_mail_in_the_label_is_a_problem_naming_its_line(tmp_path):
    plain = "From: a@b.c\nSubject: hi\n\nhello\n"
    result = read_all(MBOX, write_mbox(tmp_path / "p.mbox", sms_mail(), plain))
    assert len(result.messages) == 1
    assert result.problems[0].where.startswith("p.mbox line ")
    assert "not an SMS Backup+ message" in result.problems[0].message


def test_invalid_base64_attachment_is_a_problem_and_the_text_is_kept(tmp_path):
    path = write_mbox(tmp_path / "b.mbox", mms_mail(image="not-valid-base64!!!"))
    result = read_all(MBOX, path)
    assert result.messages[0].body == "look at this"
    assert "pic.png" in result.problem_text and "base64" in result.problem_text


def test_escaped_from_lines_in_bodies_are_unescaped(tmp_path):
    path = write_mbox(tmp_path / "f.mbox", sms_mail(body="line\n>From here\nend"), sms_mail())
    result = read_all(MBOX, path)
    assert result.messages[0].body == "line\nFrom here\nend"
    assert len(result.messages) == 2


def test_crlf_mbox_is_read(tmp_path):
    path = tmp_path / "crlf.mbox"
    path.write_bytes(mbox(sms_mail(body="x")).replace("\n", "\r\n").encode())
    assert read_all(MBOX, path).messages[0].body == "x"


def test_a_folder_of_eml_files(tmp_path):
    folder = tmp_path / "SMS"
    (folder / "sub").mkdir(parents=True)
    (folder / "1.eml").write_text(sms_mail(body="first"))
    (folder / "sub" / "2.eml").write_text(mms_mail())
    (folder / "notes.txt").write_text("ignored")
    result = read_all(EML, folder)
    assert [m.body for m in result.messages] == ["first", "look at this"]
    assert result.messages[0].source == "eml"
    assert result.expected == [2]  # told first, so that an import can show how far it got
    assert EML.sniff(folder) and not MBOX.sniff(folder)


def test_a_single_eml_file_and_an_empty_folder(tmp_path):
    one = tmp_path / "one.eml"
    one.write_text(sms_mail())
    assert len(read_all(EML, one).messages) == 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="no .eml files"):
        read_all(EML, tmp_path / "empty")


def test_a_file_that_is_not_an_mbox_is_refused(tmp_path):
    path = tmp_path / "x.mbox"
    path.write_text("<smses/>")
    with pytest.raises(BadInput, match="x.mbox: line 1"):
        read_all(MBOX, path)


def test_an_empty_mbox_has_no_messages(tmp_path):
    path = tmp_path / "empty.mbox"
    path.write_bytes(b"")
    assert read_all(MBOX, path).messages == []
