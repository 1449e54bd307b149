"""The plain-text export: conversations under headings, days, senders, attachments, calls."""

from __future__ import annotations

import io

from strongroom.formats.text_export import TextWriter, human_size
from tests.formats.builders import PNG
from tests.formats.export_builders import ALICE, BOB, T0, account, sms


def text_of(records) -> str:
    out = io.BytesIO()
    TextWriter().write(records, out)
    return out.getvalue().decode("utf-8")


def test_conversations_read_like_a_transcript():
    lines = text_of(account()).splitlines()
    assert lines[0] == "Messages exported from Strongroom. Times are in UTC."
    at = lines.index(ALICE)
    assert lines[at + 1] == "=" * len(ALICE)
    assert lines[at + 3 : at + 7] == [
        "Tuesday 14 November 2023",
        "[22:13] Me: hi Alice",
        f"[22:14] {ALICE}: hello!",
        "        second line",
    ]
    group = lines.index(f"Hikers ({ALICE}, {BOB})")
    assert lines[group + 3 : group + 8] == [
        "Tuesday 14 November 2023",
        f"[23:13] {BOB}: the view",
        f"        [attachment: summit.png, image/png, {len(PNG)} bytes]",
        "        [attachment: bob.vcf, text/x-vcard, 24 bytes]",
        f"        (love by {ALICE})",
    ]
    assert "[22:13] Me: on my way" in lines and "        (failed)" in lines
    calls = lines.index("Calls")
    assert lines[calls + 3 :] == [
        f"[2023-11-14 22:13] incoming call, Alice ({ALICE}), 1:15",
        f"[2023-11-14 22:13] missed call, {BOB}",
    ]


def test_control_characters_cannot_reach_a_terminal():
    text = text_of([sms("red \x1b[31malert\x1b[0m bell\x07", T0)])
    assert "\x1b" not in text and "\x07" not in text
    assert "red \ufffd[31malert" in text


def test_sizes_read_as_people_expect():
    assert [human_size(n) for n in (0, 999, 1000, 1_234_567, 5 * 10**9)] == [
        "0 bytes",
        "999 bytes",
        "1.0 KB",
        "1.2 MB",
        "5.0 GB",
    ]
