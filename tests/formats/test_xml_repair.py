"""The repairing byte stream on its own: what lxml receives."""

from __future__ import annotations

import io

import pytest

from strongroom.formats import xml_repair
from strongroom.formats.base import BadInput
from strongroom.formats.xml_repair import RepairedXml, repair


def stream(data: bytes) -> RepairedXml:
    return RepairedXml(io.BytesIO(data), "f.xml")


def test_repair_joins_surrogates_and_drops_forbidden_characters():
    assert repair(b"a&#55357;&#56832;b&#x1;c\x02d&#10;&#65535;") == b"a&#128512;bcd&#10;"


def test_utf16_is_transcoded_with_its_declaration_relabelled_and_lines_kept():
    text = "<?xml version='1.0' encoding='UTF-16'?>\n<smses>\n<sms body='é'/></smses>"
    out = stream(text.encode("utf-16")).read()
    assert out.startswith(b"<?xml version='1.0' encoding=\"UTF-8\"?>\n")
    assert out.count(b"\n") == 2 and "é".encode() in out


def test_root_name_is_found_after_comments_and_instructions():
    data = b"<?xml version='1.0'?>\n<!-- c -->\n<?xml-stylesheet href='x'?>\n<calls count='0'/>"
    assert stream(data).root_name() == "calls"
    assert stream(b"hello").root_name() is None


def test_a_doctype_after_a_comment_is_still_refused_with_its_line():
    with pytest.raises(BadInput, match="f.xml: line 3: .*document type declaration"):
        stream(b"<?xml version='1.0'?>\n<!-- x -->\n<!DOCTYPE a>\n<a/>").root_name()


def test_reads_of_any_size_return_the_whole_stream_in_order(monkeypatch):
    monkeypatch.setattr(xml_repair, "CHUNK", 5)
    data = b"<smses>" + b"<sms b='&#55357;&#56832;'/>" * 50 + b"</smses>"
    s = stream(data)
    pieces = []
    while piece := s.read(3):
        pieces.append(piece)
    assert b"".join(pieces) == data.replace(b"&#55357;&#56832;", b"&#128512;")


def test_lines_are_whole_across_blocks_and_overlong_ones_come_in_pieces(monkeypatch):
    monkeypatch.setattr(xml_repair, "CHUNK", 4)
    monkeypatch.setattr(xml_repair, "LINE_LIMIT", 20)
    data = b"<smses>\n<sms a='1'/>\r\n" + b"x" * 30 + b"\n<sms/></smses>"
    lines = list(stream(data).lines())
    assert b"".join(lines) == data
    assert lines[:2] == [b"<smses>\n", b"<sms a='1'/>\r\n"]
    assert len(lines) > 4 and all(len(piece) <= 24 for piece in lines[2:-1])
    assert lines[-1] == b"<sms/></smses>"
