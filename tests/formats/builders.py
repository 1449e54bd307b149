"""Builders for format tests: small SBR XML documents and SMS Backup+ mail written by hand, and
a reader harness that materialises spooled parts (and deletes their files)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from strongroom.formats.base import Reader, ReadOptions
from strongroom.messages.records import (
    CallRecord,
    Expected,
    FileContent,
    InlineContent,
    MessageRecord,
    Problem,
    ReactionRecord,
)

# A valid 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
HEAD = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"


def attrs(values: dict[str, Any]) -> str:
    """Attributes written verbatim: values are inserted raw so tests can put references in."""
    return " ".join(f'{k}="{v}"' for k, v in values.items())


def sms(**values: Any) -> str:
    base = {
        "protocol": "0",
        "address": "+15550100001",
        "date": "1700000000123",
        "type": "1",
        "subject": "null",
        "body": "hello",
        "read": "1",
        "date_sent": "1700000000000",
    }
    base.update(values)
    return f"  <sms {attrs(base)} />\n"


def part(**values: Any) -> str:
    base = {"seq": "0", "ct": "text/plain", "name": "text.txt", "text": "hi"}
    base.update(values)
    return f"      <part {attrs(base)} />\n"


def mms(parts: list[str], addrs: list[tuple[str, int]], **values: Any) -> str:
    base = {"date": "1700000100000", "msg_box": "1", "address": addrs[0][0] if addrs else ""}
    base.update(values)
    addr_lines = "".join(
        f'      <addr address="{a}" type="{t}" charset="106" />\n' for a, t in addrs
    )
    return (
        f"  <mms {attrs(base)}>\n    <parts>\n{''.join(parts)}    </parts>\n"
        f"    <addrs>\n{addr_lines}    </addrs>\n  </mms>\n"
    )


def call(**values: Any) -> str:
    base = {"number": "+15550100001", "duration": "61", "date": "1700000200000", "type": "1"}
    base.update(values)
    return f"  <call {attrs(base)} />\n"


def smses(*records: str, count: int | None = None) -> str:
    n = len(records) if count is None else count
    return f'{HEAD}<smses count="{n}">\n{"".join(records)}</smses>\n'


def calls(*records: str, count: int | None = None) -> str:
    n = len(records) if count is None else count
    return f'{HEAD}<calls count="{n}">\n{"".join(records)}</calls>\n'


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@dataclass
class Result:
    messages: list[MessageRecord] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    spooled: list[Path] = field(default_factory=list)
    expected: list[int] = field(default_factory=list)
    """The counts the reader announced (Expected), in order."""

    @property
    def problem_text(self) -> str:
        return "\n".join(f"{p.where}: {p.message}" for p in self.problems)


def read_all(reader: Reader, path: Path, **options: Any) -> Result:
    """Every record of ``path``; spooled parts become InlineContent and their files are removed."""
    result = Result()
    for record in reader.read(path, ReadOptions(**options)):
        if isinstance(record, MessageRecord):
            for p in record.parts:
                if isinstance(p.content, FileContent):
                    result.spooled.append(p.content.path)
                    data = p.content.read()
                    p.content.discard()
                    p.content = InlineContent(data)
            result.messages.append(record)
        elif isinstance(record, CallRecord):
            result.calls.append(record)
        elif isinstance(record, Problem):
            result.problems.append(record)
        elif isinstance(record, Expected):
            assert not result.messages and not result.calls, "Expected comes before the records"
            result.expected.append(record.count)
        else:
            assert isinstance(record, ReactionRecord)
    return result


def essence(record: MessageRecord) -> tuple[Any, ...]:
    """What a round trip must keep: the message, its read flag, dates and attachment bytes."""
    return (
        record.kind,
        record.direction,
        record.date_ms,
        record.date_sent_ms,
        record.body,
        record.sender,
        sorted(record.participants),
        record.read,
        record.status,
        record.subject,
        [(p.content_type, p.filename, p.content.read()) for p in record.parts],
    )


def quoted(value: str) -> str:
    """An XML attribute value, quotes included."""
    return quoteattr(value)
