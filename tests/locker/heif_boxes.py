"""Test helper: give a HEIF file an ``irot`` transform, as iPhones write for portrait photos.

pillow-heif writes the EXIF Orientation tag but no ``irot`` box, so to test that real iPhone
files come out upright we add the box ourselves (ISO/IEC 23008-12 6.5.10): append ``irot`` to
``ipco``, associate it with the primary item in ``ipma``, grow the enclosing boxes, and move the
``iloc`` offsets past the inserted bytes.  Handles the layout pillow-heif 1.x writes (``iloc``
version 0 or 1 with 4-byte fields, ``ipma`` version 0 with 7-bit indices) and refuses others.
"""

from __future__ import annotations

import struct


def _children(data: bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    """Box type -> (offset, size) of the boxes between ``start`` and ``end``."""
    found: dict[bytes, tuple[int, int]] = {}
    at = start
    while at < end:
        size, kind = struct.unpack_from(">I4s", data, at)
        found[kind] = (at, size)
        at += size
    return found


def add_rotation(heif: bytes, anticlockwise_quarters: int) -> bytes:
    """``heif`` with its primary image rotated by ``anticlockwise_quarters`` x 90 degrees."""
    data = bytearray(heif)
    meta_at, meta_size = _children(data, 0, len(data))[b"meta"]
    inner = _children(data, meta_at + 12, meta_at + meta_size)  # meta is a full box
    iprp_at, iprp_size = inner[b"iprp"]
    props = _children(data, iprp_at + 8, iprp_at + iprp_size)
    ipco_at, ipco_size = props[b"ipco"]
    ipma_at, ipma_size = props[b"ipma"]
    primary = struct.unpack_from(">H", data, inner[b"pitm"][0] + 12)[0]
    index = len(_children(data, ipco_at + 8, ipco_at + ipco_size)) + 1
    if data[ipma_at + 8] != 0 or data[ipma_at + 11] & 1 or index > 127:
        raise ValueError("unexpected ipma layout")
    if not ipco_at < ipma_at or inner[b"iloc"][0] > iprp_at:
        raise ValueError("unexpected box order")

    # Edits go from the end of the file backwards, so earlier offsets stay valid.
    at = ipma_at + 16
    for _ in range(struct.unpack_from(">I", data, ipma_at + 12)[0]):
        item, count = struct.unpack_from(">HB", data, at)
        if item == primary:
            data[at + 2] = count + 1
            data[at + 3 + count : at + 3 + count] = bytes([0x80 | index])  # essential
            break
        at += 3 + count
    else:
        raise ValueError("the primary item has no properties")
    struct.pack_into(">I", data, ipma_at, ipma_size + 1)
    irot = struct.pack(">I4sB", 9, b"irot", anticlockwise_quarters & 3)
    insert_at = ipco_at + ipco_size
    data[insert_at:insert_at] = irot
    struct.pack_into(">I", data, ipco_at, ipco_size + len(irot))
    grown = len(irot) + 1
    struct.pack_into(">I", data, iprp_at, iprp_size + grown)
    struct.pack_into(">I", data, meta_at, meta_size + grown)
    _shift_iloc(data, inner[b"iloc"][0], grown, after=insert_at)
    return bytes(data)


def _shift_iloc(data: bytearray, iloc_at: int, delta: int, *, after: int) -> None:
    version = data[iloc_at + 8]
    sizes = data[iloc_at + 12]
    offset_size, length_size, base_size = sizes >> 4, sizes & 15, data[iloc_at + 13] >> 4
    index_size = data[iloc_at + 13] & 15 if version in (1, 2) else 0
    if (offset_size, length_size, base_size) != (4, 4, 4) or index_size or version > 1:
        raise ValueError("unexpected iloc layout")
    at = iloc_at + 14
    count = struct.unpack_from(">H", data, at)[0]
    at += 2
    for _ in range(count):
        at += 2 + (2 if version == 1 else 0) + 2  # item id, construction method, data ref
        base = struct.unpack_from(">I", data, at)[0]
        if base >= after:
            struct.pack_into(">I", data, at, base + delta)
        at += 4
        extents = struct.unpack_from(">H", data, at)[0]
        at += 2
        for _ in range(extents):
            offset = struct.unpack_from(">I", data, at)[0]
            if base == 0 and offset >= after:
                struct.pack_into(">I", data, at, offset + delta)
            at += 8
