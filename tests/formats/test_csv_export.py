"""The CSV export: one row per message, the documented columns, safe in a spreadsheet."""

from __future__ import annotations

import csv
import io

from strongroom.formats import csv_export
from strongroom.formats.csv_export import COLUMNS, CsvWriter, defuse
from tests.formats.export_builders import ALICE, BOB, HOSTILE_BODY, T0, account, sms


def rows_of(records) -> list[dict[str, str]]:
    out = io.BytesIO()
    CsvWriter().write(records, out)
    data = out.getvalue()
    assert data.startswith("\ufeff".encode())  # spreadsheets detect UTF-8 by it
    assert b"\r\n" in data
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_one_row_per_message_with_the_documented_columns():
    out = io.BytesIO()
    CsvWriter().write(account(), out)
    header = next(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert header == COLUMNS
    for column in COLUMNS:
        assert f"``{column}``" in csv_export.__doc__
    rows = rows_of(account())
    assert len(rows) == 5  # the calls are not rows
    mine, hello, view = rows[0], rows[1], rows[2]
    assert (mine["direction"], mine["sender"], mine["read"]) == ("out", "", "1")
    assert mine["date"] == "2023-11-14T22:13:20.000Z" and mine["date_ms"] == str(T0)
    assert hello["body"] == "hello!\nsecond line" and hello["read"] == "0"
    assert view["conversation_name"] == "Hikers" and view["participants"] == f"{ALICE}; {BOB}"
    assert view["attachments"] == "summit.png; bob.vcf" and view["attachment_count"] == "2"
    assert view["reactions"] == f"love by {ALICE}" and view["sender"] == BOB
    assert len({r["conversation"] for r in rows}) == 2
    assert rows[4]["status"] == "failed"


def test_bodies_with_quotes_commas_and_line_breaks_come_back_exactly():
    body = 'a, "quoted"\r\nline; and\ttab ' + HOSTILE_BODY
    [row] = rows_of([sms(body, T0)])
    assert row["body"] == body


def test_formulas_are_defused_but_phone_numbers_are_not():
    [row] = rows_of([sms('=HYPERLINK("http://evil","click")', T0, sender="+15550100009")])
    assert row["body"] == '\'=HYPERLINK("http://evil","click")'
    assert row["sender"] == "+15550100009"
    values = ("@SUM(A1)", "+1 (555) 010-0001", "-cmd|' /C calc'!A0", "+A1", "-", "plain")
    assert [defuse(v) for v in values] == [
        "'@SUM(A1)",
        "+1 (555) 010-0001",
        "'-cmd|' /C calc'!A0",
        "'+A1",
        "-",
        "plain",
    ]
