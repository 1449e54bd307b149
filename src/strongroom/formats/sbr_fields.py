"""The fields of SMS Backup & Restore XML and how they map onto our records.

Values are read as the app writes them: Android's own column values as text, the literal string
``null`` for an empty optional column.  Attributes we do not model are kept, raw, in the record's
``extra`` so that an export writes them back unchanged (except values an export writes anyway,
:data:`SMS_DEFAULTS`).
"""

from __future__ import annotations

from strongroom.formats.mms_owner import split_addresses
from strongroom.messages.records import CallRecord, CallType, Direction, MessageRecord, Precision

SOURCE = "sbr-xml"

BOXES: dict[int, tuple[Direction, str]] = {
    1: ("in", "received"),
    2: ("out", "sent"),
    3: ("out", "draft"),
    4: ("out", "outbox"),
    5: ("out", "failed"),
    6: ("out", "queued"),
}
"""SMS ``type`` and MMS ``msg_box``: inbox, sent, draft, outbox, failed, queued."""
BOX_OF_STATUS = {status: box for box, (_, status) in BOXES.items()}

CALL_TYPES: dict[int, CallType] = {
    1: "incoming",
    2: "outgoing",
    3: "missed",
    4: "voicemail",
    5: "rejected",
    6: "blocked",
    7: "incoming",  # answered on another device
}
CALL_TYPE_CODES: dict[CallType, int] = {
    "incoming": 1,
    "outgoing": 2,
    "missed": 3,
    "voicemail": 4,
    "rejected": 5,
    "blocked": 6,
}

SMS_MAPPED = frozenset({"address", "date", "type", "subject", "body", "read", "date_sent"})
MMS_MAPPED = frozenset({"date", "date_sent", "msg_box", "read", "sub", "m_id"})
CALL_MAPPED = frozenset({"number", "duration", "date", "type", "contact_name"})
UNKNOWN = "(Unknown)"
"""The app's ``contact_name`` for a number not in the phone's contacts."""
UNKNOWN_NAMES = frozenset({UNKNOWN, "null", ""})
_BOX_OF_TEXT = {str(number): kind for number, kind in BOXES.items()}
_FLAG_OF_TEXT = {"0": False, "1": True}
"""The values nearly every record has, looked up before they are parsed as integers."""

SMS_DEFAULTS = {
    "protocol": "0",
    "toa": "null",
    "sc_toa": "null",
    "service_center": "null",
    "status": "-1",
    "locked": "0",
    "sub_id": "-1",
    "contact_name": UNKNOWN,
}
"""What an export writes for these ``<sms>`` attributes when a record does not say otherwise.
Read values equal to them are not kept in ``extra`` (an export writes them back all the same):
nearly every record of a real file has them, and they were two thirds of a stored message's
bytes after its text."""
MMS_DEFAULTS = {
    "rr": "null",
    "ct_t": "application/vnd.wap.multipart.related",
    "read_status": "null",
    "seen": "1",
    "sub_cs": "null",
    "resp_st": "null",
    "retr_st": "null",
    "d_tm": "null",
    "exp": "null",
    "locked": "0",
    "st": "null",
    "retr_txt_cs": "null",
    "retr_txt": "null",
    "creator": "null",
    "rpt_a": "null",
    "ct_cls": "null",
    "pri": "null",
    "sub_id": "-1",
    "tr_id": "null",
    "resp_txt": "null",
    "ct_l": "null",
    "m_cls": "personal",
    "d_rpt": "null",
    "v": "18",
    "contact_name": UNKNOWN,
}
""":data:`SMS_DEFAULTS` for ``<mms>``."""
CALL_DEFAULTS = {"presentation": "1"}
""":data:`SMS_DEFAULTS` for ``<call>`` (its ``contact_name`` is the record's name)."""

SECONDS_BEFORE = 10**11
"""A time below this is in seconds (it would be March 1973 in milliseconds)."""


def optional(value: str | None) -> str | None:
    """None for a missing attribute or the app's literal ``null``."""
    return None if value is None or value == "null" else value


def to_int(value: str | None) -> int | None:
    """An integer attribute; None if missing, ``null`` or not a number."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def time_ms(value: str | None) -> tuple[int, Precision] | None:
    """A time in milliseconds and the precision it came with; seconds are told by size."""
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    if 0 < abs(number) < SECONDS_BEFORE:
        return number * 1000, "s"
    return number, "ms"


def date_sent_ms(value: str | None) -> int | None:
    """``date_sent``: 0 and ``null`` mean unknown."""
    parsed = time_ms(value)
    return parsed[0] if parsed and parsed[0] else None


def flag(value: str | None, default: bool = True) -> bool:
    number = to_int(value)
    return default if number is None else number != 0


def box(value: str | None) -> tuple[Direction, str] | None:
    number = to_int(value)
    return BOXES.get(number) if number is not None else None


def extras(attrs: dict[str, str], mapped: frozenset[str]) -> dict[str, str]:
    return {k: v for k, v in attrs.items() if k not in mapped}


def drop_defaults(attrs: dict[str, str], defaults: dict[str, str]) -> dict[str, str]:
    """``attrs`` without the values an export would write anyway (:data:`SMS_DEFAULTS`)."""
    for key, value in defaults.items():
        if attrs.get(key) == value:
            del attrs[key]
    return attrs


def sms_record(attrs: dict[str, str]) -> MessageRecord | str:
    """An ``<sms>`` as a record, or the reason it cannot be one.

    ``attrs`` is used up: what is left in it (the attributes we do not model) becomes ``extra``.
    """
    pop = attrs.pop
    when = time_ms(pop("date", None))
    if when is None:
        return "the sms has no valid date; skipped"
    type_text = pop("type", None)
    kind = _BOX_OF_TEXT.get(type_text or "") or box(type_text)
    if kind is None:
        return f"the sms has an unknown type {type_text!r}; skipped"
    direction, status = kind
    participants = split_addresses(pop("address", None))
    read = pop("read", None)
    return MessageRecord(
        kind="sms",
        direction=direction,
        date_ms=when[0],
        date_precision=when[1],
        date_sent_ms=date_sent_ms(pop("date_sent", None)),
        body=pop("body", ""),
        sender=participants[0] if direction == "in" and participants else None,
        participants=participants,
        read=_FLAG_OF_TEXT[read] if read in _FLAG_OF_TEXT else flag(read),
        status=status,
        subject=optional(pop("subject", None)),
        source=SOURCE,
        extra=drop_defaults(attrs, SMS_DEFAULTS),
    )


def call_record(attrs: dict[str, str]) -> CallRecord | str:
    """A ``<call>`` as a record, or the reason it cannot be one.

    ``attrs`` is used up: what is left in it (the attributes we do not model) becomes ``extra``.
    """
    pop = attrs.pop
    when = time_ms(pop("date", None))
    if when is None:
        return "the call has no valid date; skipped"
    type_text = pop("type", None)
    code = to_int(type_text)
    call_type = CALL_TYPES.get(code) if code is not None else None
    if call_type is None or type_text is None:
        return f"the call has an unknown type {type_text!r}; skipped"
    number = pop("number", None)
    duration = pop("duration", None)
    name = pop("contact_name", None)
    if CALL_TYPE_CODES[call_type] != code:
        attrs["type"] = type_text
    return CallRecord(
        number=number or "",
        date_ms=when[0],
        duration_s=max(0, to_int(duration) or 0),
        type=call_type,
        name=None if name in UNKNOWN_NAMES else name,
        source=SOURCE,
        extra=drop_defaults(attrs, CALL_DEFAULTS),
    )
