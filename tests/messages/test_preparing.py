"""Preparing messages ahead: the fast JSON of ``extra`` is exactly ``json.dumps``'s."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from strongroom.messages.preparing import compact_json


@given(st.dictionaries(st.text(), st.text() | st.integers() | st.none()))
def test_compact_json_is_json_dumps(values: dict[str, object]) -> None:
    assert compact_json(values) == json.dumps(values, separators=(",", ":"))  # type: ignore[arg-type]


def test_compact_json_reuses_a_key_template_with_other_values() -> None:
    first = {"100%": "a", "%s": "b%s", "k": "\u00e9\U0001f600"}
    second = {"100%": "%d", "%s": "", "k": '"'}
    for values in (first, second, first):
        assert compact_json(values) == json.dumps(values, separators=(",", ":"))
