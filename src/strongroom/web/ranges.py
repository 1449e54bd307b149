"""HTTP byte ranges (RFC 9110 section 14): one range per request, as video players ask."""

from __future__ import annotations

import re

from strongroom.errors import InvalidInput

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(InvalidInput):
    """The Range header asks for bytes beyond the end."""

    slug = "range-not-satisfiable"
    title = "Range not satisfiable"


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_exclusive)`` for a single-range header; None means the whole content.

    Multiple ranges and malformed headers are ignored (the whole content is sent, as RFC 9110
    allows).  Raises RangeNotSatisfiable when the range starts past the end.
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable(f"bytes */{size}")
        return max(0, size - length), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or end <= start:
        raise RangeNotSatisfiable(f"bytes */{size}")
    return start, end
