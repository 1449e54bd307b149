"""Sizes for people: ``human_bytes(1234567) == '1.2 MB'`` and ``parse_size('50GB')``."""

from __future__ import annotations

import re

from strongroom.errors import InvalidInput

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


def human_bytes(n: int | float) -> str:
    """Decimal units, as storage is sold: 1234567 -> '1.2 MB'."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def parse_size(text: str) -> int:
    """'50GB' -> 50_000_000_000; 'GiB'-style binary units too.  Raises InvalidInput."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise InvalidInput(f"not a size: {text!r} (try 50GB, 500MB or 2TiB)")
    return int(float(match.group(1)) * _UNITS[unit])


def human_time(ms: int | None) -> str:
    """UTC milliseconds as '2026-11-27 23:41 UTC' ('never' for None)."""
    from datetime import UTC, datetime

    if ms is None:
        return "never"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
