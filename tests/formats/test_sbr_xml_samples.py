"""The SBR XML reader on the real files in ../shared/samples (read in place), against the
expectations listed in the samples' README."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from strongroom.formats.sbr_xml import SbrXmlReader
from tests.conftest import SAMPLES, missing
from tests.formats.builders import read_all

READER = SbrXmlReader()
FOLDER = SAMPLES / "sms-backup-restore"
OWNER = "+15550000007"


def sample(name: str) -> Path:
    path = FOLDER / name
    if not path.exists():
        missing(f"sample file {path} is absent (../shared/samples is not beside the project)")
    return path


def test_truncated_sms_and_mms_keeps_41_sms_and_8_mms_and_reports_both_problems():
    result = read_all(READER, sample("sms_and_mms.xml"))
    kinds = [m.kind for m in result.messages]
    assert kinds.count("sms") == 41 and kinds.count("mms") == 8
    assert len(result.problems) == 2
    truncation, count = result.problems
    assert truncation.where == "sms_and_mms.xml line 136"
    assert "ends early" in truncation.message
    assert "says it holds 58 records but 49 were found" in count.message


def test_both_mms_pictures_decode_to_valid_pngs():
    result = read_all(READER, sample("sms_and_mms.xml"))
    pictures = [p for m in result.messages for p in m.parts if p.content_type == "image/png"]
    assert [p.filename for p in pictures] == ["image_8.png", "image_10.png"]
    for picture in pictures:
        with Image.open(io.BytesIO(picture.content.read())) as image:
            image.verify()
            assert image.format == "PNG"


def test_group_messages_share_one_set_of_participants_without_the_owner():
    result = read_all(READER, sample("sms_and_mms.xml"))
    group = [m for m in result.messages if m.extra.get("address") == "group_8@rcs.google.com"]
    assert len(group) == 3
    assert {frozenset(m.participants) for m in group} == {
        frozenset({"+15550000006", "+15550000009", "+15550000010"})
    }
    assert [m.sender for m in group] == ["+15550000009", None, "+15550000010"]
    assert all(OWNER not in m.participants for m in result.messages)
    one_to_one = [m for m in result.messages if m.extra.get("address") == "+15550000006"]
    assert {tuple(m.participants) for m in one_to_one} == {("+15550000006",)}


def test_multiline_bodies_dates_and_read_flags_of_the_real_file():
    result = read_all(READER, sample("sms_and_mms.xml"))
    by_body = {m.body.split("\n")[0]: m for m in result.messages}
    assert by_body["Body text 10"].body == "Body text 10\nBody text 11\nBody text 12"
    first = by_body["Body text 1"]
    assert (first.date_ms, first.date_sent_ms, first.read) == (1512226167463, 1512226166000, True)
    unread = by_body["Body text 50"]
    assert unread.read is False and unread.date_sent_ms == 1721084194000


def test_reading_the_same_file_twice_gives_the_same_records():
    from tests.formats.builders import essence

    first = read_all(READER, sample("sms_and_mms.xml"))
    second = read_all(READER, sample("sms_and_mms.xml"))
    assert [essence(m) for m in first.messages] == [essence(m) for m in second.messages]


def test_corrupt_attachments_keep_their_messages_text_and_report_each_attachment():
    result = read_all(READER, sample("corrupt_attachments.xml"))
    assert [m.body for m in result.messages] == [
        "MMS with corrupted base64 image data",
        "MMS with unsupported attachment type",
    ]
    assert len(result.problems) == 2
    assert "corrupt_image.png" in result.problems[0].message
    assert "corrupt.file" in result.problems[1].message
    assert all(p.content_type == "text/plain" for m in result.messages for p in m.parts)


def test_sample_mms_attachments_have_their_types_and_bytes():
    result = read_all(READER, sample("sample_mms.xml"))
    attachments = [m.parts[0] for m in result.messages]
    assert [a.content_type for a in attachments] == [
        "image/png",
        "video/mp4",
        "audio/mp3",
        "application/pdf",
    ]
    assert attachments[0].content.read().startswith(b"\x89PNG")
    assert attachments[3].content.read().startswith(b"%PDF")
    assert not result.problems


@pytest.mark.parametrize(
    ("name", "sms", "mms"),
    [("sms_small.xml", 12, 0), ("sample_small.xml", 5, 2), ("empty.xml", 0, 0)],
)
def test_small_samples_read_completely_without_problems(name, sms, mms):
    result = read_all(READER, sample(name))
    kinds = [m.kind for m in result.messages]
    assert (kinds.count("sms"), kinds.count("mms")) == (sms, mms)
    assert result.problems == []
