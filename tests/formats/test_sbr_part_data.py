"""Cutting a part's base64 out of a line before the parser reads it, and putting it back."""

from __future__ import annotations

import pytest

from strongroom.formats import sbr_part_data
from strongroom.formats.sbr_part_data import PartData

DATA = "iVBORw0KGgo+/AAAA=="


@pytest.fixture(autouse=True)
def cut_every_line(monkeypatch):
    monkeypatch.setattr(sbr_part_data, "CUT_FROM", 0)


def test_the_value_is_replaced_and_given_back_to_its_part():
    cutter = PartData()
    line = f'      <part seq="0" ct=\'image/png\' data="{DATA}" cl="a.png" />\n'.encode()
    cut = cutter.cut(line)
    assert cut == line.replace(DATA.encode(), cutter.placeholder.encode())
    attrs = {"seq": "0", "data": cutter.placeholder}
    cutter.restore(attrs)
    assert attrs["data"] == DATA and cutter.pending is None


@pytest.mark.parametrize(
    "line",
    [
        f'<part data="{DATA}&#10;" />\n',  # a reference to resolve
        f'<part data="{DATA}\t" />\n',  # white space the parser normalises
        f'<part data="{DATA}é" />\n',  # not ASCII
        f'<part data="{DATA}\n',  # the value does not end on this line
        f'<part text="x data=&quot;" data="{DATA}<" />\n',  # a "<" the parser must see
        f'<sms body="{DATA}" data="{DATA}" />\n',  # not a part
        f'<part body="<" data="{DATA}" />\n',  # not a well-formed tag up to data
        f"<!-- <part data='{DATA}' /> -->\n",  # single quotes: not what the app writes
    ],
)
def test_lines_it_cannot_be_sure_of_are_left_alone(line):
    cutter = PartData()
    assert cutter.cut(line.encode()) == line.encode()
    assert cutter.pending is None


def test_a_size_threshold_keeps_short_lines_untouched(monkeypatch):
    monkeypatch.setattr(sbr_part_data, "CUT_FROM", 1000)
    line = f'<part data="{DATA}" />\n'.encode()
    assert PartData().cut(line) == line


def test_a_value_cut_from_a_comment_is_never_given_to_another_part():
    cutter = PartData()
    cutter.cut(f'<part data="{DATA}" /> -->\n'.encode())
    attrs = {"data": "other"}
    cutter.restore(attrs)
    assert attrs == {"data": "other"}
