"""Splitting mbox files: one message at a time, in memory that does not grow with the file."""

from __future__ import annotations

import io
import tracemalloc

from strongroom.formats.mbox import mbox_messages, mbox_separator
from strongroom.formats.sms_backup_plus import SbpMboxReader
from tests.formats.builders import read_all
from tests.formats.mail_builders import mbox, sms_mail


def peak_while_splitting(count: int) -> int:
    data = mbox(*(sms_mail(body=f"message {i} " + "x" * 500) for i in range(count))).encode()
    stream = io.BytesIO(data)
    tracemalloc.start()
    try:
        seen = sum(1 for _ in mbox_messages(stream))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == count
    return peak


def test_memory_does_not_grow_with_the_number_of_messages():
    small, large = peak_while_splitting(500), peak_while_splitting(10000)
    assert large < small * 2 + 64 * 1024


def test_messages_start_at_their_from_lines_and_lose_the_separator_blank():
    data = mbox(sms_mail(body="a"), sms_mail(body="b")).encode()
    messages = list(mbox_messages(io.BytesIO(data)))
    assert [m.line for m in messages] == [1, len(sms_mail(body="a").splitlines()) + 3]
    assert all(m.data is not None and m.data.endswith(b"\n") for m in messages)
    assert not messages[0].data.endswith(b"\n\n")


def test_a_from_line_in_a_body_without_blank_before_is_not_a_separator():
    data = mbox(sms_mail(body="one\nFrom me to you")).encode()
    assert len(list(mbox_messages(io.BytesIO(data)))) == 1


def test_an_oversized_message_is_skipped_and_reported(tmp_path):
    data = mbox(sms_mail(body="x" * 5000), sms_mail(body="small")).encode()
    messages = list(mbox_messages(io.BytesIO(data), limit=2000))
    assert messages[0].data is None and messages[1].data is not None
    path = tmp_path / "big.mbox"
    path.write_bytes(mbox(sms_mail(body="ok")).encode() + b"X" * 10 + b"\n")
    assert read_all(SbpMboxReader(), path).messages[0].body.startswith("ok")


def test_a_line_without_end_is_read_in_bounded_pieces():
    data = b"From a Tue Nov 14 22:13:20 2023\nSubject: x\n\n" + b"y" * (3 << 20)
    (message,) = list(mbox_messages(io.BytesIO(data)))
    assert message.data is not None and len(message.data) > 3 << 20


def test_separator_line_format():
    assert mbox_separator(1700000000123) == b"From MAILER-DAEMON Tue Nov 14 22:13:20 2023\n"
