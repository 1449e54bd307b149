"""Uploading files: by hash when the server already has the bytes, otherwise with tus, resumable.

A tus upload's URL is handed to ``remember`` as soon as it exists, so that an interrupted upload
(a dropped connection, a killed process) resumes from the server's offset next time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from strongroom.client.api import ApiError, Client

TUS = {"Tus-Resumable": "1.0.0"}
READ_SIZE = 1024 * 1024
WITH_CREATION = 16 * 1024 * 1024
"""Files up to this size are sent with the request that creates their upload; a larger file
gets its upload first, so that an interrupted transfer resumes where it stopped."""

Progress = Callable[[int], None]


def sha256_of(path: Path, progress: Progress | None = None) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while piece := f.read(READ_SIZE):
            h.update(piece)
            if progress:
                progress(len(piece))
    return h.hexdigest()


def _metadata(values: dict[str, str]) -> str:
    return ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}" if v else k for k, v in values.items() if v
    )


@dataclass
class Uploaded:
    file_id: str
    sha256: str
    sent_bytes: int
    by_hash: bool


def _check(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = {"code": "http-error", "detail": response.text[:200]}
        raise ApiError(response.status_code, problem)
    return response


def by_hash(
    client: Client, sha256: str, size: int, folder: str, name: str, mtime: float
) -> dict[str, Any] | None:
    """Create the file from bytes the server already has; None if it has not got them."""
    r = client.http.post(
        "/api/v1/files/by-hash",
        json={"sha256": sha256, "size": size, "filename": name, "folder": folder, "mtime": mtime},
    )
    if r.status_code == 404:
        return None
    return _check(r).json()  # type: ignore[no-any-return]


def by_hash_many(
    client: Client, items: list[tuple[str, int, str, str, float]]
) -> list[dict[str, Any] | None] | None:
    """Create many files, given as ``(sha256, size, folder, name, mtime)``, from bytes the
    server already has: each file made, or None where it has not got the bytes.  None for
    the whole when the server cannot (one from before the question): send them all then."""
    body = {
        "files": [
            {"sha256": h, "size": n, "folder": folder, "filename": name, "mtime": mtime}
            for h, n, folder, name, mtime in items
        ]
    }
    r = client.http.post("/api/v1/files/by-hash/batch", json=body)
    if r.status_code in (404, 405):
        return None
    return list(_check(r).json()["files"])


SIZES_ASKED = 10_000
"""Sizes asked about per request (the server's limit)."""


def stored_sizes(client: Client, sizes: Iterable[int]) -> set[int] | None:
    """Which of ``sizes`` the account stores content of: only a file of one of those sizes can
    be stored by hash.  None when the server cannot say (then every file may be)."""
    asked = sorted(set(sizes))
    found: set[int] = set()
    for at in range(0, len(asked), SIZES_ASKED):
        r = client.http.post("/api/v1/files/sizes", json={"sizes": asked[at : at + SIZES_ASKED]})
        if r.status_code in (404, 405):
            return None  # a server from before the question
        found.update(_check(r).json()["sizes"])
    return found


def _body(f: BinaryIO, progress: Progress | None) -> Iterator[bytes]:
    while piece := f.read(READ_SIZE):
        if progress:
            progress(len(piece))
        yield piece


def _send(
    client: Client,
    url: str,
    f: BinaryIO,
    offset: int,
    size: int,
    progress: Progress | None,
) -> httpx.Response | None:
    """Send the rest of the file in one PATCH, streamed from disk (constant memory); the
    answer, or None when nothing was left to send."""
    if offset >= size:
        return None
    f.seek(offset)
    return _check(
        client.http.patch(
            url,
            content=_body(f, progress),
            headers={
                **TUS,
                "Upload-Offset": str(offset),
                "Content-Length": str(size - offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
    )


def upload(
    client: Client,
    path: Path,
    *,
    folder: str,
    name: str,
    resume_url: str | None = None,
    remember: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    sha256: str | None = None,
) -> tuple[str, str, int]:
    """Send a file with tus (resuming ``resume_url`` when it is still valid); return the stored
    file's id, its SHA-256 (hex) and how many bytes were sent.

    The bytes are not hashed here: the server hashes what it stores and says so in its last
    answer (``Strongroom-File-Sha256``).  ``sha256``: the hash, when it is known already.  Only
    when neither is there (a server that does not say it) is the file read again to hash it.
    """
    st = path.stat()
    size = st.st_size
    url, offset = None, 0
    if resume_url:
        head = client.http.head(resume_url, headers=TUS)
        if head.status_code == 200 and int(head.headers.get("upload-length", -1)) == size:
            url, offset = resume_url, int(head.headers["upload-offset"])
    sent = size - offset
    last: httpx.Response | None = None
    with path.open("rb") as f:
        if url is None:
            meta = {"filename": name, "folder": folder, "mtime": str(int(st.st_mtime))}
            headers = {**TUS, "Upload-Length": str(size), "Upload-Metadata": _metadata(meta)}
            if size <= WITH_CREATION:
                # tus creation-with-upload: the bytes go with the creation request, one round
                # trip fewer; an interruption costs at most WITH_CREATION bytes sent again.
                headers["Content-Type"] = "application/offset+octet-stream"
                headers["Content-Length"] = str(size)
                last = _check(
                    client.http.post("/api/v1/uploads", headers=headers, content=_body(f, progress))
                )
                offset = int(last.headers.get("upload-offset", 0))
            else:
                last = _check(client.http.post("/api/v1/uploads", headers=headers))
            url = last.headers["location"]
        if remember:
            remember(url)
        if last is None or "strongroom-file-id" not in last.headers:
            last = _send(client, url, f, offset, size, progress) or last
    file_id = last.headers.get("strongroom-file-id") if last is not None else None
    if file_id is None:  # finished earlier (an interrupted last answer): ask the upload
        file_id = client.call("GET", url)["file_id"]
    digest = sha256 or (last.headers.get("strongroom-file-sha256") if last is not None else None)
    return str(file_id), digest or sha256_of(path), sent


def put_file(
    client: Client,
    path: Path,
    *,
    folder: str,
    name: str | None = None,
    sha256: str | None = None,
    ask_by_hash: bool = True,
    resume_url: str | None = None,
    remember: Callable[[str], None] | None = None,
    progress: Progress | None = None,
) -> Uploaded:
    """Store one local file: by hash if possible, else upload the bytes.

    ``ask_by_hash=False`` sends the bytes without asking first (for a file that was backed up
    and has changed since, or one of a size the account stores nothing of: the server rarely
    or never has its bytes, and it still stores each chunk once); the file is then read once,
    and hashed only by the server.
    """
    st = path.stat()
    name = name or path.name
    digest = None
    if ask_by_hash:
        digest = sha256 or sha256_of(path)
        known = by_hash(client, digest, st.st_size, folder, name, st.st_mtime)
        if known is not None:
            if progress:
                progress(st.st_size)
            return Uploaded(str(known["id"]), digest, 0, True)
    file_id, sent_digest, sent = upload(
        client,
        path,
        folder=folder,
        name=name,
        resume_url=resume_url,
        remember=remember,
        progress=progress,
        sha256=digest,
    )
    return Uploaded(file_id, sent_digest, sent, False)


def download(client: Client, file_id: str, out: BinaryIO, progress: Progress | None = None) -> int:
    """Write a file's bytes to ``out``; return how many."""
    written = 0
    with client.http.stream("GET", f"/api/v1/files/{file_id}/content") as r:
        if r.status_code >= 400:
            r.read()
            _check(r)
        for piece in r.iter_bytes(READ_SIZE):
            out.write(piece)
            written += len(piece)
            if progress:
                progress(len(piece))
    return written


def is_regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and os.access(path, os.R_OK)


SMALL = 1024 * 1024
"""Files below this go in batches (one request for many) instead of one upload each."""


def put_batch(client: Client, items: list[tuple[Path, str]]) -> list[tuple[dict[str, Any], str]]:
    """Store several small files in one request; ``items`` are (local path, locker folder).
    Each stored file with the SHA-256 (hex) of the bytes sent, in order."""
    manifest = []
    parts = []
    for path, folder in items:
        st = path.stat()
        data = path.read_bytes()
        manifest.append({"name": path.name, "folder": folder, "mtime": st.st_mtime})
        parts.append(("file", (path.name, data, "application/octet-stream")))
    r = client.http.post(
        "/api/v1/files/batch", data={"manifest": json.dumps(manifest)}, files=parts
    )
    return [(made, str(made["sha256"])) for made in _check(r).json()["files"]]
