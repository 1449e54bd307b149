"""The JSON export: versioned, streamed, valid against its published schema."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest

from strongroom.formats.attachment_names import attachment_path
from strongroom.formats.json_export import FORMAT_VERSION, JsonWriter
from tests.formats.builders import PNG
from tests.formats.export_builders import (
    ALICE,
    BOB,
    HOSTILE_BODY,
    T0,
    account,
    check_schema,
    hostile,
    sms,
)

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "json-export.schema.json"


def export(records, **options) -> dict:
    out = io.BytesIO()
    JsonWriter(**options).write(records, out)
    return json.loads(out.getvalue().decode("utf-8"))


def test_messages_calls_and_conversations_are_all_there():
    doc = export(account(), exported_at_ms=T0)
    assert doc["format_version"] == FORMAT_VERSION == 1
    assert doc["exported_at"] == "2023-11-14T22:13:20.000Z"
    assert [m["body"] for m in doc["messages"]][:2] == ["hi Alice", "hello!\nsecond line"]
    view = doc["messages"][2]
    assert view["group_title"] == "Hikers" and view["participants"] == [ALICE, BOB]
    assert [(p["content_type"], p["attachment"]) for p in view["parts"]] == [
        ("application/smil", False),
        ("image/png", True),
        ("text/x-vcard", True),
    ]
    assert view["parts"][1] == {
        "content_type": "image/png",
        "filename": "summit.png",
        "size": len(PNG),
        "attachment": True,
    }
    assert view["reactions"] == [{"reaction": "love", "sender": ALICE, "date": T0 + 3_700_000}]
    assert [(c["number"], c["type"], c["duration_s"]) for c in doc["calls"]] == [
        (ALICE, "incoming", 75),
        (BOB, "missed", 0),
    ]
    summaries = {c["name"]: c for c in doc["conversations"]}
    assert summaries["Hikers"]["message_count"] == 3
    assert summaries[ALICE]["first_date"] == T0
    assert {m["conversation"] for m in doc["messages"]} == {c["key"] for c in summaries.values()}


def test_the_export_matches_its_published_schema():
    schema = json.loads(SCHEMA.read_text())
    assert schema["properties"]["format_version"]["const"] == FORMAT_VERSION
    for doc in (
        export(account()),
        export(hostile(), attachments="paths"),
        export(account(), attachments="base64"),
        export([]),
    ):
        check_schema(doc, schema)
    with pytest.raises(AssertionError, match="missing 'body'"):
        broken = export(account())
        del broken["messages"][0]["body"]
        check_schema(broken, schema)


def test_text_survives_exactly():
    body = HOSTILE_BODY + ' \U0001f600 \u202e \x00 \\ "end"'
    [message] = export([sms(body, T0)])["messages"]
    assert message["body"] == body


def test_attachments_as_paths_or_bytes():
    records = account()
    with_paths = export(records, attachments="paths")
    picture = with_paths["messages"][2]["parts"][1]
    assert picture["path"] == attachment_path(records[2], 1, records[2].parts[1])
    assert "path" not in with_paths["messages"][2]["parts"][0]  # the SMIL layout has no file
    with_bytes = export(records, attachments="base64")
    encoded = with_bytes["messages"][2]["parts"][1]["data_base64"]
    assert base64.b64decode(encoded) == PNG


def test_messages_must_come_before_calls():
    records = account()
    with pytest.raises(ValueError, match="before the calls"):
        JsonWriter().write([records[-1], records[0]], io.BytesIO())
