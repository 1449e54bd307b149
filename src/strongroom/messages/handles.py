"""Handles: the same person written ``(555) 010-9999``, ``+15550109999`` or ``5550109999`` is one.

Phone numbers become E.164 using the account's default region (``phonenumbers``); short codes
and alphanumeric sender names are kept as written; e-mail handles (iMessage) are lower-cased.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from strongroom.errors import InvalidInput

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DIALABLE = re.compile(r"[\d\s()+.\-/]+")
_SHORT_CODE_MAX = 6


@lru_cache(maxsize=1 << 16)
def normalise(raw: str, region: str) -> tuple[str, str]:
    """``(value, kind)`` for a handle as some source wrote it; kind is phone, email, short, name.

    Raises InvalidInput for an empty handle.
    """
    text = raw.strip()
    if text.lower().startswith(("tel:", "sms:", "mailto:")):
        text = text.split(":", 1)[1].strip()
    if not text:
        raise InvalidInput("a handle cannot be empty")
    if _EMAIL.fullmatch(text):
        return text.lower(), "email"
    if _DIALABLE.fullmatch(text):
        digits = re.sub(r"\D", "", text)
        if len(digits) <= _SHORT_CODE_MAX and not text.startswith("+"):
            return digits, "short"
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return digits, "short"
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), "phone"
        return ("+" if text.startswith("+") else "") + digits, "short"
    return text[:320], "name"


def normalise_many(raws: list[str], region: str) -> list[str]:
    """Normalised values, without duplicates, in first-seen order."""
    seen: dict[str, None] = {}
    for raw in raws:
        if raw and raw.strip():
            seen.setdefault(normalise(raw, region)[0], None)
    return list(seen)
