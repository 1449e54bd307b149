"""Attachment file names: one function makes every name safe; paths are stable and distinct."""

from __future__ import annotations

import pytest

from strongroom.formats.attachment_names import (
    MAX_NAME_BYTES,
    attachment_path,
    is_attachment,
    safe_filename,
)
from strongroom.messages.records import InlineContent, PartRecord
from tests.formats.export_builders import BOB, T0, group_mms


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("IMG_0001.JPG", "IMG_0001.JPG"),
        ("Beach Day é.png", "Beach Day é.png"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/absolute/path.txt", "path.txt"),
        ("..", "fallback"),
        ("...", "fallback"),
        (".hidden", "hidden"),
        ("trailing. . ", "trailing"),
        ("", "fallback"),
        (None, "fallback"),
        ("<script>.png", "_script_.png"),
        ('a"b|c?d*e:f.txt', "a_b_c_d_e_f.txt"),
        ("tab\there\nnewline", "tab_here_newline"),
        ("photo\u202egpj.exe", "photo_gpj.exe"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("LPT1.tar.gz", "_LPT1.tar.gz"),
        ("CONTACTS.vcf", "CONTACTS.vcf"),
        ("???", "fallback"),
    ],
)
def test_names_are_made_safe(name, expected):
    assert safe_filename(name, "fallback") == expected


def test_long_names_are_shortened_keeping_the_extension():
    shortened = safe_filename("é" * 300 + ".jpeg")
    assert shortened.endswith("é.jpeg") and len(shortened.encode()) <= MAX_NAME_BYTES


def test_paths_are_stable_dated_and_distinct_for_different_attachments():
    first = PartRecord("image/jpeg", InlineContent(b"one"), "IMG.jpg")
    second = PartRecord("image/jpeg", InlineContent(b"two"), "IMG.jpg")
    record = group_mms("two pictures, one name", T0, BOB, [first, second])
    a, b = attachment_path(record, 0, first), attachment_path(record, 1, second)
    assert a != b and a.endswith("-IMG.jpg") and b.endswith("-IMG.jpg")
    assert a.startswith("attachments/2023-11/20231114-221320-")
    again = group_mms("two pictures, one name", T0, BOB, [first, second])
    assert attachment_path(again, 0, first) == a
    nameless = PartRecord("image/jpeg", InlineContent(b"x"))
    assert attachment_path(record, 2, nameless, "files").endswith("-attachment-3.jpg")


def test_text_and_layout_parts_are_not_attachments():
    def part(content_type):
        return PartRecord(content_type, InlineContent(b""))

    assert not is_attachment(part("text/plain"))
    assert not is_attachment(part("Text/Plain; charset=utf-8"))
    assert not is_attachment(part("application/smil"))
    assert is_attachment(part("text/x-vcard")) and is_attachment(part("image/png"))
