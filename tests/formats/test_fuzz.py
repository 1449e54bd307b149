"""Bounded-time fuzzing of the readers: mutated files give records, Problems or BadInput, and
nothing else (no other exception, no hang)."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom.formats.base import BadInput
from strongroom.formats.sbr_xml import SbrXmlReader
from strongroom.formats.sms_backup_plus import SbpEmlReader, SbpMboxReader
from strongroom.messages.records import CallRecord, MessageRecord, Problem
from tests.formats.builders import PNG, mms, part, read_all, sms, smses
from tests.formats.mail_builders import call_mail, mbox, mms_mail, sms_mail

SEED_XML = smses(
    sms(body="hi &#55357;&#56832; &#x11;"),
    mms(
        [part(ct="image/png", data=base64.b64encode(PNG).decode()), part(text="t")],
        [("+15550100001", 137), ("+15550100007", 151), ("+15550100002", 130)],
        address="g@rcs",
    ),
    sms(type="2", date_sent="null"),
).encode()
SEED_MBOX = mbox(sms_mail(), mms_mail(outgoing=True), call_mail()).encode()

FUZZ = settings(
    max_examples=60,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete", "dup"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[pos:]
        elif action == "insert":
            chunk = draw(
                st.sampled_from(
                    [
                        b"&#55357;",
                        b"<!DOCTYPE x>",
                        b"&#x0;",
                        b"\x00",
                        b"<",
                        b'"',
                        b"\n>From ",
                        b"From x\n",
                        b"=?utf-8?q?=FF?=",
                        b"\xff\xfe",
                    ]
                )
            )
            data[pos:pos] = chunk
        elif action == "delete":
            del data[pos : pos + draw(st.integers(1, 40))]
        elif action == "dup":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 200))]
    return bytes(data)


def only_records_or_bad_input(reader, path: Path) -> None:
    try:
        result = read_all(reader, path)
    except BadInput as e:
        assert path.name in str(e)
        return
    for record in [*result.messages, *result.calls, *result.problems]:
        assert isinstance(record, MessageRecord | CallRecord | Problem)


@FUZZ
@given(mutated(SEED_XML))
def test_mutated_sbr_xml(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.xml"
        path.write_bytes(data)
        only_records_or_bad_input(SbrXmlReader(), path)


@FUZZ
@given(mutated(SEED_MBOX))
def test_mutated_mbox(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.mbox"
        path.write_bytes(data)
        only_records_or_bad_input(SbpMboxReader(), path)


@FUZZ
@given(mutated(mms_mail().encode()))
def test_mutated_eml(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.eml"
        path.write_bytes(data)
        only_records_or_bad_input(SbpEmlReader(), path)
