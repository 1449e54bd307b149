"""The SBR XML reader as a stream: the lines it names, the pieces it reads the file in, and what
it frees.  Lines are counted the way libxml2 counts them (only line feeds; an element is on the
line where its start tag ends), which is what the reader has always reported."""

from __future__ import annotations

import base64

from strongroom.formats import sbr_part_data, xml_repair
from strongroom.formats.base import ReadOptions
from strongroom.formats.sbr_xml import SbrXmlReader
from tests.formats.builders import HEAD, PNG, mms, part, read_all, sms, smses, write

READER = SbrXmlReader()
OWNER, ANN, BOB = "+15550100007", "+15550100001", "+15550100002"


def test_lines_are_counted_at_line_feeds_only(tmp_path):
    text = (
        f'{HEAD}<smses count="4">\r\n'  # line 2: CRLF counts once
        '<sms date="1" type="1" address="1"/>\r<sms date="x" type="1"/>\n'  # line 3: CR does not
        '<sms date="2" type="1"\n  address="2"\n/>\n'  # lines 4-6: a start tag over three lines
        '<sms date="3" type="9" body="a\nb"/>\n'  # lines 7-8: a line break inside a value
        "</smses>\n"
    )
    result = read_all(READER, write(tmp_path / "l.xml", text))
    assert [m.body for m in result.messages] == ["", ""]
    assert [p.where for p in result.problems] == ["l.xml line 3", "l.xml line 8", "l.xml"]


def test_lines_stay_right_when_blocks_end_mid_line(tmp_path, monkeypatch):
    monkeypatch.setattr(xml_repair, "CHUNK", 7)
    text = smses(sms(body="x" * 40), sms(body="y&#55357;&#56832;"), sms(date="bad"))
    result = read_all(READER, write(tmp_path / "b.xml", text))
    assert [m.body for m in result.messages] == ["x" * 40, "y\U0001f600"]
    assert result.problems[0].where == "b.xml line 5"


def test_an_sms_inside_an_mms_drops_the_addrs_before_it(tmp_path):
    # The reader has always freed each record's element together with everything before it
    # in its parent, so an <mms> only sees the <addr> still inside it when it ends.
    text = (
        f'{HEAD}<smses count="2">\n<mms date="1" msg_box="1" address="{ANN}">\n'
        f'<addrs><addr address="{BOB}" type="151"/></addrs>\n'
        '<sms date="5" type="1" address="3"/>\n'
        f'<addrs><addr address="{ANN}" type="137"><addr address="{OWNER}" type="151"/></addr>'
        "</addrs>\n</mms>\n</smses>\n"
    )
    result = read_all(READER, write(tmp_path / "n.xml", text))
    sms_record, mms_record = result.messages
    assert sms_record.participants == ["3"]
    assert mms_record.extra["@addrs"] == f'[["{ANN}", "137", ""], ["{OWNER}", "151", ""]]'


def test_closing_the_reader_between_released_messages_deletes_their_attachments(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    picture = [part(ct="image/png", data=base64.b64encode(PNG).decode())]
    group = [(ANN, 137), (OWNER, 151), (BOB, 151)]
    waiting = mms(picture, group, address="g@x")
    settles = mms(picture, [(OWNER, 137), (ANN, 151)], msg_box="2", address=ANN)
    path = write(tmp_path / "w.xml", smses(waiting, waiting.replace("1700", "1701"), settles))
    records = READER.read(path, ReadOptions(scratch=scratch))
    first = next(records)  # the sent MMS settles the owner, and the two waiting ones follow it
    first.parts[0].content.discard()
    records.close()
    assert list(scratch.iterdir()) == []


def test_attachments_read_with_their_data_cut_from_the_line_are_the_same(tmp_path, monkeypatch):
    picture = base64.b64encode(PNG).decode()
    text = smses(
        mms([part(ct="image/png", data=picture), part(text="hi")], [(ANN, 137), (OWNER, 151)]),
        "<!--\n" + part(ct="image/png", data=picture[::-1]) + "-->\n",
        mms([part(ct="image/png", data=picture, cl="b.png")], [(ANN, 137)]),
        count=2,
    )
    path = write(tmp_path / "p.xml", text)
    plain = read_all(READER, path)
    monkeypatch.setattr(sbr_part_data, "CUT_FROM", 0)
    cut = read_all(READER, path)
    assert [m.parts[0].content.read() for m in cut.messages] == [PNG, PNG]
    assert [(m.body, m.extra) for m in cut.messages] == [(m.body, m.extra) for m in plain.messages]
    assert cut.problems == plain.problems == []
