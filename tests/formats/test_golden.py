"""Golden files: tests/formats/data/<format>/*.xml, each beside the records it must give
(*.expected.json, written by hand).  ``extra`` lists only the keys the file must carry."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from strongroom.formats import READERS
from tests.formats.builders import read_all

DATA = Path(__file__).parent / "data"
CASES = sorted(DATA.glob("*/*.expected.json"))


def content(expected: str) -> bytes:
    if expected.startswith("base64:"):
        return base64.b64decode(expected[len("base64:") :])
    return expected.encode()


@pytest.mark.parametrize("expected_path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_file_gives_the_expected_records(expected_path: Path):
    stem = expected_path.name.removesuffix(".expected.json")
    (source,) = [p for p in expected_path.parent.glob(f"{stem}.*") if p != expected_path]
    expected = json.loads(expected_path.read_text())
    result = read_all(READERS[expected_path.parent.name], source)
    assert len(result.messages) == len(expected["messages"])
    for got, want in zip(result.messages, expected["messages"], strict=True):
        for key in ("kind", "direction", "date_ms", "date_sent_ms", "body", "sender"):
            assert getattr(got, key) == want[key], key
        for key in ("read", "status", "subject"):
            assert getattr(got, key) == want[key], key
        assert sorted(got.participants) == sorted(want["participants"])  # a set, in effect
        assert [(p.content_type, p.filename, p.content.read()) for p in got.parts] == [
            (ct, name, content(data)) for ct, name, data in want["parts"]
        ]
        assert want["extra"].items() <= got.extra.items()
    assert [p.message for p in result.problems] == expected["problems"]


def test_every_golden_case_is_found():
    assert len(CASES) >= 1
