"""Sending stored content: streamed, with Range, ETag, the real Content-Type and file name.

Only pictures, audio and video are shown inline; anything else (HTML, SVG, unknown types) is
sent as an attachment under a sandboxing CSP, so stored content can never run as part of the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from strongroom.blobs import Vault
from strongroom.content import store as content
from strongroom.web.ranges import parse_range

_INLINE = ("image/", "audio/", "video/")
_NEVER_INLINE = ("image/svg+xml",)


def disposition(kind: str, filename: str | None) -> str:
    if not filename:
        return kind
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def safe_content_type(content_type: str) -> str:
    base = content_type.split(";", 1)[0].strip().lower()
    if not base or "/" not in base or any(c in base for c in "\r\n\"'"):
        return "application/octet-stream"
    return content_type if base == content_type.strip().lower() else base


def send_content(
    request: Request,
    vault: Vault,
    chunks: list[content.ChunkAt],
    *,
    size: int,
    sha256: bytes,
    content_type: str,
    filename: str | None,
    last_modified: str | None = None,
) -> Response:
    etag = f'"{sha256.hex()}"'
    ctype = safe_content_type(content_type)
    inline = ctype.startswith(_INLINE) and ctype not in _NEVER_INLINE
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": disposition("inline" if inline else "attachment", filename),
        "Content-Security-Policy": "default-src 'none'; media-src 'self'; sandbox",
    }
    if last_modified:
        headers["Last-Modified"] = last_modified
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    wanted = parse_range(request.headers.get("range"), size)
    if_range = request.headers.get("if-range")
    if wanted is not None and if_range is not None and if_range != etag:
        wanted = None
    start, end = wanted if wanted is not None else (0, size)
    headers["Content-Length"] = str(end - start)
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    body: Iterator[bytes] = content.read_range(vault, chunks, start, end)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=ctype)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=ctype)
