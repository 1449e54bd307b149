"""Hostile input to the SBR XML reader: each gives a clear BadInput or Problem, quickly, and
touches neither files nor the network."""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from strongroom.formats.base import BadInput
from strongroom.formats.sbr_xml import SbrXmlReader
from strongroom.messages.records import MessageRecord
from tests.formats.builders import PNG, mms, part, read_all, sms, smses, write

READER = SbrXmlReader()
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE smses [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<smses count="1"><sms address="1" date="1700000000000" type="1" body="&lol9;" /></smses>
"""


def within(seconds: float, fn):
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result(timeout=seconds)


def test_billion_laughs_is_refused_before_any_expansion(tmp_path):
    path = write(tmp_path / "laughs.xml", LAUGHS)
    started = time.monotonic()
    with pytest.raises(BadInput, match=r"laughs.xml: line 2: .*document type declaration"):
        within(10, lambda: read_all(READER, path))
    assert time.monotonic() - started < 2


def test_external_entity_is_refused_and_the_file_is_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    text = (
        f'<?xml version="1.0"?>\n<!DOCTYPE smses [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<smses count="1"><sms address="1" date="1700000000000" type="1" body="&x;" /></smses>'
    )
    path = write(tmp_path / "xxe.xml", text)
    before = os.stat(secret).st_atime_ns
    with pytest.raises(BadInput, match="document type declaration") as caught:
        read_all(READER, path)
    assert "TOP-SECRET" not in str(caught.value)
    assert os.stat(secret).st_atime_ns == before


def test_etc_passwd_entity_is_refused(tmp_path):
    text = (
        '<!DOCTYPE smses [<!ENTITY p SYSTEM "file:///etc/passwd">]>'
        '<smses count="1"><sms address="1" date="1" type="1" body="&p;" /></smses>'
    )
    with pytest.raises(BadInput):
        read_all(READER, write(tmp_path / "p.xml", text))


def test_undeclared_entity_in_a_record_is_a_problem_not_an_expansion(tmp_path):
    text = smses(sms(body="ok"), sms(body="&passwd;"))
    result = within(10, lambda: read_all(READER, write(tmp_path / "e.xml", text)))
    assert [m.body for m in result.messages] == ["ok"]
    assert "e.xml line 4" in result.problem_text


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_named_xml_are_refused_clearly(tmp_path, seed):
    data = random.Random(seed).randbytes(5000)
    path = tmp_path / "random.xml"
    path.write_bytes(data)
    with pytest.raises(BadInput, match="random.xml: line"):
        within(10, lambda: read_all(READER, path))


def test_every_cut_point_gives_records_and_problems_or_bad_input(tmp_path):
    text = smses(
        sms(body="one &#55357;&#56832;"),
        mms(
            [
                part(ct="image/png", data=__import__("base64").b64encode(PNG).decode()),
                part(text="two"),
            ],
            [("+15550100001", 137)],
        ),
        sms(body="three"),
    ).encode()
    path = tmp_path / "cut.xml"
    for cut in range(0, len(text), 7):
        path.write_bytes(text[:cut])
        try:
            result = within(10, lambda: read_all(READER, path))
        except BadInput as e:
            assert "cut.xml" in str(e)
            continue
        assert all(isinstance(m, MessageRecord) for m in result.messages)
        if cut < len(text) - 10:
            assert result.problems, f"a cut at byte {cut} went unreported"
            assert all(p.where.startswith("cut.xml") for p in result.problems)


def test_malformed_middle_keeps_what_came_before(tmp_path):
    text = smses(sms(body="before"), "<sms body='unterminated />\n", sms(body="after"))
    result = read_all(READER, write(tmp_path / "m.xml", text))
    assert [m.body for m in result.messages] == ["before"]
    assert "m.xml line" in result.problems[0].where


def test_a_huge_attribute_is_read_without_hanging(tmp_path):
    body = "x" * (30 << 20)
    path = write(tmp_path / "huge.xml", smses(sms(body=body)))
    result = within(60, lambda: read_all(READER, path))
    assert len(result.messages[0].body) == len(body)


def test_a_huge_invalid_base64_attachment_is_a_problem(tmp_path):
    data = "A" * (20 << 20) + "!"
    path = write(tmp_path / "huge.xml", smses(mms([part(ct="image/png", data=data)], [("1", 137)])))
    result = within(60, lambda: read_all(READER, path))
    assert result.messages and "not valid base64" in result.problem_text


def test_an_endless_prolog_is_not_read_forever(tmp_path):
    path = write(tmp_path / "prolog.xml", "<?xml version='1.0'?>" + "<!-- x -->" * 20000)
    with pytest.raises(BadInput):
        within(10, lambda: read_all(READER, path))


def test_reading_a_missing_file_is_an_os_error_not_a_crash_inside(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        read_all(READER, tmp_path / "absent.xml")
