"""Reader of SMS Backup+ mail: ``.mbox`` files and folders of ``.eml`` (a Gmail "SMS" label).

SMS Backup+ (jberkel/sms-backup-plus) stores each SMS, MMS and call as one mail message whose
``X-smssync-*`` headers carry the Android columns: ``-datatype`` (``SMS``, ``MMS``, ``CALLLOG``),
``-address``, ``-type`` (the SMS box, the MMS ``m_type``, the call type), ``-date`` (ms for SMS
and calls, *seconds* for MMS), ``-read``, ``-duration``, and ``-id``, ``-thread``, ``-status``,
``-protocol``, ``-service_center``, ``-version``, ``-backup-time`` (kept in ``extra``).  MMS
attachments are MIME parts; contacts appear as ``Name <number@unknown.email>`` or the contact's
own e-mail address.  Messages from before the ``-datatype`` header are told by ``-type``.

:func:`mail_records` converts one message and is shared with the IMAP connector.
"""

from __future__ import annotations

import email.errors
import email.utils
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path

from strongroom.formats.base import BadInput, ReadOptions
from strongroom.formats.mbox import MESSAGE_LIMIT, looks_like_mbox, mbox_messages
from strongroom.formats.mms_owner import handle_key
from strongroom.formats.sbr_fields import BOXES, CALL_TYPES, flag, time_ms, to_int
from strongroom.messages.records import (
    CallRecord,
    Expected,
    FileContent,
    InlineContent,
    MessageRecord,
    PartRecord,
    Precision,
    Problem,
    Record,
)

PREFIX = "X-smssync-"
MAPPED = frozenset(f"{PREFIX}{h}".lower() for h in ("address", "datatype", "type", "date", "read"))
UNKNOWN_DOMAIN = "unknown.email"
OUTGOING_MMS_TYPE = 128  # m_type send_req; received MMS are 132 (retrieve_conf)
_NUMBER_IN_NAME = re.compile(r"\(([+\d][\d\s().\-]{2,})\)\s*$")
_DAMAGE = (
    ValueError,
    LookupError,
    TypeError,
    OverflowError,
    UnicodeError,
    email.errors.MessageError,
)
"""What the mail parser raises on damaged input, beyond the defects it records."""
_BASE64_DEFECTS = (
    email.errors.InvalidBase64CharactersDefect,
    email.errors.InvalidBase64PaddingDefect,
    email.errors.InvalidBase64LengthDefect,
)


def header(msg: Message, name: str) -> str | None:
    value = msg.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def contact_handles(msg: Message, name: str) -> list[str]:
    """The handles in an address header: the number of ``number@unknown.email``, or the
    number in a ``Name (number)`` display name, or else the e-mail address itself."""
    handles: list[str] = []
    for display, address in email.utils.getaddresses([str(v) for v in msg.get_all(name, [])]):
        local, _, domain = address.rpartition("@")
        if domain.lower() == UNKNOWN_DOMAIN:
            number = local.strip('"').replace('\\"', '"')
            if number and number != "unknown.number":
                handles.append(number)
            elif display:
                handles.append(display)  # a handle that is not ASCII
        elif match := _NUMBER_IN_NAME.search(display):
            handles.append(match.group(1).strip())
        elif address:
            handles.append(address.lower())
    return handles


def mail_date(msg: Message, seconds: bool) -> tuple[int, Precision] | None:
    """``X-smssync-date`` (seconds if ``seconds``), else the ``Date`` header (to the second)."""
    when = time_ms(header(msg, f"{PREFIX}date"))
    if when is not None:
        return (when[0] * 1000, "s") if seconds and when[1] == "ms" else when
    value = header(msg, "Date")
    if value is None:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return int(moment.timestamp()) * 1000, "s"


def kept_headers(msg: Message) -> dict[str, str]:
    return {
        name: str(value)
        for name, value in msg.items()
        if name.lower().startswith(PREFIX.lower()) and name.lower() not in MAPPED
    }


def data_type(msg: Message) -> str | None:
    value = (header(msg, f"{PREFIX}datatype") or "").upper()
    if value:
        return value
    legacy = (header(msg, f"{PREFIX}type") or "").lower()
    if legacy == "mms":
        return "MMS"
    return "SMS" if legacy.isdigit() else None


def mail_records(data: bytes, where: str, options: ReadOptions, source: str) -> list[Record]:
    """The records of one SMS Backup+ mail message (a Problem if it is not one, or damaged)."""
    try:
        return list(_mail_records(data, where, options, source))
    except _DAMAGE as e:
        return [Problem(where, f"the message is damaged ({type(e).__name__}: {e}); skipped")]


def _mail_records(data: bytes, where: str, options: ReadOptions, source: str) -> Iterator[Record]:
    msg = BytesParser(policy=policy.default).parsebytes(data)
    kind = data_type(msg)
    if kind == "SMS":
        yield from _sms(msg, where, source)
    elif kind == "MMS":
        yield from _mms(msg, where, options, source)
    elif kind == "CALLLOG":
        yield _call(msg, where, source)
    else:
        yield Problem(where, "not an SMS Backup+ message (no X-smssync-datatype header); skipped")


def _sms(msg: EmailMessage, where: str, source: str) -> Iterator[Record]:
    when = mail_date(msg, seconds=False)
    if when is None:
        yield Problem(where, "the SMS has no date; skipped")
        return
    direction, status = BOXES.get(to_int(header(msg, f"{PREFIX}type")) or 1, ("in", "received"))
    address = header(msg, f"{PREFIX}address") or ""
    text = msg.get_body(("plain",))
    yield MessageRecord(
        kind="sms",
        direction=direction,
        date_ms=when[0],
        date_precision=when[1],
        body=_text(text) if text is not None else "",
        sender=address if direction == "in" else None,
        participants=[address] if address else [],
        read=flag(header(msg, f"{PREFIX}read")),
        status=status,
        source=source,
        extra=kept_headers(msg),
    )


def _mms(msg: EmailMessage, where: str, options: ReadOptions, source: str) -> Iterator[Record]:
    when = mail_date(msg, seconds=True)
    if when is None:
        yield Problem(where, "the MMS has no date; skipped")
        return
    outgoing = to_int(header(msg, f"{PREFIX}type")) == OUTGOING_MMS_TYPE
    address = header(msg, f"{PREFIX}address")
    others = contact_handles(msg, "To") if outgoing else contact_handles(msg, "From")
    copied = [] if outgoing else contact_handles(msg, "Cc")
    owners = {handle_key(n, options.default_region) for n in options.owner_numbers}
    participants: list[str] = []
    seen = set(owners)
    for handle in [*([address] if address else []), *others, *copied]:
        key = handle_key(handle, options.default_region)
        if key not in seen:
            seen.add(key)
            participants.append(handle)
    parts: list[PartRecord] = []
    texts: list[str] = []
    for number, part in enumerate(_leaves(msg), 1):
        record = _part(part, number, where, options)
        if isinstance(record, Problem):
            yield record
            continue
        parts.append(record)
        if record.content_type == "text/plain" and part.get_content_disposition() != "attachment":
            texts.append(record.content.read().decode("utf-8"))
    sender = None if outgoing else (others[0] if others else address)
    yield MessageRecord(
        kind="mms",
        direction="out" if outgoing else "in",
        date_ms=when[0],
        date_precision=when[1],
        body="\n".join(texts),
        sender=sender,
        participants=participants,
        read=flag(header(msg, f"{PREFIX}read")),
        status="sent" if outgoing else "received",
        parts=parts,
        source=source,
        extra=kept_headers(msg),
    )


def _leaves(msg: Message) -> Iterator[Message]:
    if msg.is_multipart():
        for sub in msg.iter_parts() if isinstance(msg, EmailMessage) else []:
            yield from _leaves(sub)
    elif msg.get_content_maintype() != "multipart":
        yield msg


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, "replace")
    except LookupError:
        text = payload.decode("utf-8", "replace")
    if part.get("Content-Transfer-Encoding", "").strip().lower() == "base64":
        return text  # byte-exact, as our writer stores it
    # Mail carries text with CRLF line ends and a final line break the SMS did not have.
    text = text.replace("\r\n", "\n")
    return text[:-1] if text.endswith("\n") else text


def _part(part: Message, number: int, where: str, options: ReadOptions) -> PartRecord | Problem:
    content_type = part.get_content_type()
    filename = part.get_filename()
    label = f"attachment {number}" + (f" ({filename})" if filename else "")
    if content_type.startswith("text/") and part.get_content_disposition() != "attachment":
        return PartRecord(content_type, InlineContent(_text(part).encode("utf-8")), filename)
    payload = part.get_payload(decode=True)
    if any(isinstance(d, _BASE64_DEFECTS) for d in part.defects):
        return Problem(where, f"{label} is not valid base64; the attachment was left out")
    if not isinstance(payload, bytes):
        return Problem(where, f"{label} has no content; left out")
    content = FileContent.spool(iter((payload,)), options.scratch)
    return PartRecord(content_type, content, filename)


def _call(msg: EmailMessage, where: str, source: str) -> Record:
    when = mail_date(msg, seconds=False)
    code = to_int(header(msg, f"{PREFIX}type"))
    call_type = CALL_TYPES.get(code) if code is not None else None
    if when is None or call_type is None:
        return Problem(where, "the call has no date or an unknown type; skipped")
    number = header(msg, f"{PREFIX}address") or ""
    side = "To" if call_type == "outgoing" else "From"
    names = [display for display, _ in email.utils.getaddresses(msg.get_all(side, []))]
    name = names[0] if names and names[0] not in ("", number, "Unknown") else None
    extra = kept_headers(msg)
    return CallRecord(
        number=number,
        date_ms=when[0],
        duration_s=max(0, to_int(extra.pop(f"{PREFIX}duration", None)) or 0),
        type=call_type,
        name=name,
        source=source,
        extra=extra,
    )


def _problem_for_size(where: str) -> Problem:
    return Problem(where, f"the message is larger than {MESSAGE_LIMIT >> 20} MB; skipped")


class SbpMboxReader:
    """An ``.mbox`` file (Gmail Takeout of the "SMS" label, or any mbox of SMS Backup+ mail)."""

    name = "mbox"

    def sniff(self, path: Path) -> bool:
        if not path.is_file():
            return False
        with path.open("rb") as f:
            return looks_like_mbox(f.read(5))

    def read(self, path: Path, options: ReadOptions) -> Iterator[Record]:
        with path.open("rb") as f:
            head = f.read(5)
            if head and not looks_like_mbox(head):
                raise BadInput(f"{path.name}: line 1: an mbox file starts with a 'From ' line")
            f.seek(0)
            for message in mbox_messages(f):
                where = f"{path.name} line {message.line}"
                if message.data is None:
                    yield _problem_for_size(where)
                    continue
                yield from mail_records(message.data, where, options, self.name)


class SbpEmlReader:
    """A folder of ``.eml`` files (or one ``.eml`` file), each one SMS Backup+ message."""

    name = "eml"

    def sniff(self, path: Path) -> bool:
        if path.is_dir():
            return any(p.suffix.lower() == ".eml" for p in path.iterdir())
        return path.suffix.lower() == ".eml"

    def read(self, path: Path, options: ReadOptions) -> Iterator[Record]:
        files = sorted(path.rglob("*.eml")) if path.is_dir() else [path]
        if not files:
            raise BadInput(f"{path.name}: the folder holds no .eml files")
        yield Expected(len(files))
        for file in files:
            where = str(file.relative_to(path)) if path.is_dir() else file.name
            if file.stat().st_size > MESSAGE_LIMIT:
                yield _problem_for_size(where)
                continue
            yield from mail_records(file.read_bytes(), where, options, self.name)
