"""Hand-written SMS Backup+ mail (as the Android app stores it) for the mail format tests."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.formats.builders import PNG


def sms_mail(
    body: str = "hello",
    address: str = "+15550100001",
    type_: str = "1",
    date: str | None = "1700000000123",
    read: str = "1",
    extra_headers: str = "",
) -> str:
    date_header = f"X-smssync-date: {date}\n" if date is not None else ""
    sender = f"{address} <{address}@unknown.email>"
    return (
        f"From: {sender if type_ == '1' else 'me@gmail.com'}\n"
        f"To: {'me@gmail.com' if type_ == '1' else sender}\n"
        f"Subject: SMS with {address}\n"
        "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
        "Message-ID: <abc@sms-backup-plus.local>\n"
        f"X-smssync-address: {address}\n"
        "X-smssync-datatype: SMS\n"
        f"X-smssync-type: {type_}\n"
        f"{date_header}"
        "X-smssync-thread: 12\n"
        f"X-smssync-read: {read}\n"
        "X-smssync-id: 345\n"
        "X-smssync-status: -1\n"
        "X-smssync-protocol: 0\n"
        "X-smssync-service_center: +15550000000\n"
        "X-smssync-version: 1580\n"
        f"{extra_headers}"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        f"{body}\n"
    )


def mms_mail(
    outgoing: bool = False,
    image: bytes | str = PNG,
    text: str = "look at this",
    date: str = "1700000100",
) -> str:
    picture = image if isinstance(image, str) else base64.b64encode(image).decode()
    people = "Ann <+15550100001@unknown.email>, bob@example.com"
    return (
        f"From: {'me@gmail.com' if outgoing else 'Ann <+15550100001@unknown.email>'}\n"
        f"To: {people if outgoing else 'me@gmail.com'}\n"
        "Subject: MMS with Ann\n"
        "Date: Tue, 14 Nov 2023 22:15:00 +0000\n"
        "X-smssync-address: +15550100001\n"
        "X-smssync-datatype: MMS\n"
        f"X-smssync-type: {'128' if outgoing else '132'}\n"
        f"X-smssync-date: {date}\n"
        "X-smssync-read: 0\n"
        "X-smssync-id: 99\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="XX"\n\n'
        "--XX\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        f"{text}\n"
        "--XX\n"
        'Content-Type: image/png; name="pic.png"\n'
        'Content-Disposition: attachment; filename="pic.png"\n'
        "Content-Transfer-Encoding: base64\n\n"
        f"{picture}\n"
        "--XX--\n"
    )


def call_mail(type_: str = "2", duration: str = "75") -> str:
    return (
        "From: me@gmail.com\n"
        "To: Ann Smith <+15550100001@unknown.email>\n"
        "Subject: Call with Ann Smith\n"
        "Date: Tue, 14 Nov 2023 22:16:40 +0000\n"
        "X-smssync-address: +15550100001\n"
        "X-smssync-datatype: CALLLOG\n"
        f"X-smssync-type: {type_}\n"
        "X-smssync-date: 1700000200000\n"
        f"X-smssync-duration: {duration}\n"
        "X-smssync-id: 7\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "75s (00:01:15)\n+15550100001 (outgoing call)\n"
    )


def mbox(*messages: str) -> str:
    return "".join(f"From 1700000000@xxx Tue Nov 14 22:13:20 +0000 2023\n{m}\n" for m in messages)


def write_mbox(path: Path, *messages: str) -> Path:
    path.write_bytes(mbox(*messages).encode())
    return path
