"""Builders for the export writers' tests: a small account's records (hostile ones included),
streams that cannot seek, and a JSON Schema check."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from strongroom.messages.records import (
    CallRecord,
    InlineContent,
    MessageRecord,
    PartRecord,
    ReactionRecord,
)
from tests.formats.builders import PNG

ALICE, BOB, CAROL = "+15550100001", "+15550100002", "+15550100003"
T0 = 1_700_000_000_000  # Tuesday 14 November 2023 22:13:20 UTC
HOSTILE_BODY = '<script>alert("body")</script> & "quotes" \'single\' <img src=x onerror=alert(1)>'
HOSTILE_NAMES = [
    "../../etc/passwd",
    "<b>bold</b>.png",
    "..",
    "CON.txt",
    "photo\u202egpj.exe",
    'quote" onmouseover="alert(1).pdf',
]


def sms(body: str, date: int, sender: str = ALICE, *, out: bool = False, **more: Any):
    values: dict[str, Any] = {
        "kind": "sms",
        "direction": "out" if out else "in",
        "date_ms": date,
        "body": body,
        "sender": None if out else sender,
        "participants": [sender],
        "status": "sent" if out else "received",
        "source": "device",
    }
    return MessageRecord(**(values | more))


def group_mms(body: str, date: int, sender: str | None, parts: list[PartRecord], **more: Any):
    values: dict[str, Any] = {
        "kind": "mms",
        "direction": "in" if sender else "out",
        "date_ms": date,
        "body": body,
        "sender": sender,
        "participants": [ALICE, BOB],
        "status": "received" if sender else "sent",
        "group_title": "Hikers",
        "parts": parts,
        "source": "device",
    }
    return MessageRecord(**(values | more))


def picture(name: str | None = "summit.png") -> PartRecord:
    return PartRecord("image/png", InlineContent(PNG), name)


def account() -> list[MessageRecord | CallRecord]:
    """Two conversations (one a group with attachments and a reaction), then two calls."""
    return [
        sms("hi Alice", T0, out=True),
        sms("hello!\nsecond line", T0 + 60_000, read=False),
        group_mms(
            "the view",
            T0 + 3_600_000,
            BOB,
            [
                PartRecord("application/smil", InlineContent(b"<smil/>"), "smil.xml"),
                picture(),
                PartRecord(
                    "text/x-vcard", InlineContent(b"BEGIN:VCARD\r\nEND:VCARD\r\n"), "bob.vcf"
                ),
            ],
            reactions=[ReactionRecord("", "love", ALICE, T0 + 3_700_000)],
        ),
        group_mms("wow", T0 + 3_660_000, ALICE, []),
        group_mms("on my way", T0 + 86_400_000, None, [], status="failed"),
        CallRecord(ALICE, T0 + 10_000, 75, "incoming", name="Alice"),
        CallRecord(BOB, T0 + 20_000, 0, "missed"),
    ]


def hostile() -> list[MessageRecord]:
    """Bodies, names, titles and senders written to break out of a page or a folder."""
    parts = [
        PartRecord(
            "image/png" if name.endswith(".png") else "application/octet-stream",
            InlineContent(f"bytes of {name}".encode()),
            name,
        )
        for name in HOSTILE_NAMES
    ]
    return [
        MessageRecord(
            kind="mms",
            direction="in",
            date_ms=T0,
            body=HOSTILE_BODY,
            subject="<i>subject</i>",
            sender="<svg onload=alert(1)>",
            participants=["<svg onload=alert(1)>", CAROL],
            group_title="</title><script>alert('title')</script>",
            parts=parts,
            source="device",
        )
    ]


class Unseekable(io.RawIOBase):
    """A write-only stream that cannot seek or tell, like an HTTP response or a pipe."""

    def __init__(self, target: Any = None) -> None:
        self.target = target
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        raise OSError("not seekable")

    def write(self, b: Any) -> int:
        if self.target is not None:
            self.target.write(b)
        else:
            self.data += b
        return len(b)


def check_schema(value: Any, schema: dict, root: dict | None = None, where: str = "$") -> None:
    """Validate ``value`` against the JSON Schema subset docs/json-export.schema.json uses
    (type, enum, const, required, properties, additionalProperties, items, $ref, minimum,
    pattern).  Raises AssertionError naming the place."""
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return check_schema(value, root["$defs"][name], root, where)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        assert any(_is(value, k) for k in kinds), f"{where}: {value!r} is not {kinds}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "const" in schema:
        assert value == schema["const"], f"{where}: {value!r} != {schema['const']!r}"
    if "minimum" in schema and _is(value, "number"):
        assert value >= schema["minimum"], f"{where}: {value} < {schema['minimum']}"
    if "pattern" in schema and isinstance(value, str):
        assert re.search(schema["pattern"], value), f"{where}: {value!r} !~ {schema['pattern']}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: missing {key!r}"
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                check_schema(item, properties[key], root, f"{where}.{key}")
            elif extra is False:
                raise AssertionError(f"{where}: unexpected {key!r}")
            elif isinstance(extra, dict):
                check_schema(item, extra, root, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for n, item in enumerate(value):
            check_schema(item, schema["items"], root, f"{where}[{n}]")
    return None


def _is(value: Any, kind: str) -> bool:
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    return checks[kind](value)


def files_under(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by its relative path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
