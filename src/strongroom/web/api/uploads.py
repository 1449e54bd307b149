"""Resumable uploads with the tus 1.0 protocol at ``/api/v1/uploads``.

Extensions: creation, creation-with-upload, expiration, checksum (sha256, sha1, md5),
termination.  Standard clients (tuspy, tus-js-client, Uppy) work unchanged; they authenticate with
a device token, or the web session plus ``X-CSRF-Token``.  Upload-Metadata keys: ``filename``
(required), ``folder`` (default: the root), ``mtime`` (epoch seconds); the finished upload
becomes a file, whose id comes back in ``Strongroom-File-Id`` and the SHA-256 (hex) of its
bytes in ``Strongroom-File-Sha256`` (so a client need not hash what it sends).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from email.utils import formatdate

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from strongroom.accounts.keys import vault_for
from strongroom.errors import InvalidInput, StrongroomError
from strongroom.locker import files, uploads
from strongroom.locker.whole_uploads import WholeUpload
from strongroom.runtime import Runtime
from strongroom.web.deps import CurrentUser, RuntimeDep

router = APIRouter(tags=["uploads"])

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,expiration,checksum,termination"
CHECKSUMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "md5": hashlib.md5}
_PIECE = 4 * 1024 * 1024
"""Request bytes gathered before they go to a worker thread: each hand-over costs a thread
switch and the GIL, so fewer and larger (at 1 MiB they were several thousand per backup)."""


class TusError(InvalidInput):
    """A request that breaks the tus protocol (missing or wrong headers)."""

    slug = "tus-protocol"
    title = "Not a valid tus request"


class Appenders:
    """Live upload state of this process, one lock per upload (least recently used first)."""

    def __init__(self, limit: int = 256) -> None:
        self.live: OrderedDict[str, uploads.Appender] = OrderedDict()
        self.locks: dict[str, asyncio.Lock] = {}
        self.limit = limit

    def lock(self, public_id: str) -> asyncio.Lock:
        return self.locks.setdefault(public_id, asyncio.Lock())

    def take(self, public_id: str) -> uploads.Appender | None:
        appender = self.live.pop(public_id, None)
        return None if appender is None or appender.broken else appender

    def keep(self, appender: uploads.Appender) -> None:
        self.live[appender.public_id] = appender
        while len(self.live) > self.limit:
            self.live.popitem(last=False)

    def forget(self, public_id: str) -> None:
        self.live.pop(public_id, None)
        self.locks.pop(public_id, None)


def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **(extra or {})}


_FILE_HEADERS = ("Strongroom-File-Id", "Strongroom-File-Sha256", "Connection")


def _file_headers(made: files.FileView) -> dict[str, str]:
    """The answer that finishes an upload: the file made, and the end of the connection.
    With several server processes, a client's connections stay with the process that accepted
    them, and one process often accepts most of them at once (a backup's four connections: three
    and one, all the way through, so one process ran short of its interpreter lock while the
    other idled).  A new connection for the next file goes to whichever process is free to take
    it first."""
    return {
        "Strongroom-File-Id": str(made.id),
        "Strongroom-File-Sha256": made.sha256,
        "Connection": "close",
    }


def _expires(ms: int) -> str:
    return formatdate(ms / 1000, usegmt=True)


def _wrong_version(request: Request) -> Response | None:
    """The 412 answer tus prescribes for a request without ``Tus-Resumable: 1.0.0``."""
    if request.headers.get("tus-resumable") == TUS_VERSION:
        return None
    return Response(status_code=412, headers=_headers({"Tus-Version": TUS_VERSION}))


def parse_metadata(header: str | None) -> dict[str, str]:
    """``filename ZG9n,folder UGhvdG9z`` -> ``{"filename": "dog", "folder": "Photos"}``."""
    meta: dict[str, str] = {}
    for pair in (header or "").split(","):
        if not pair.strip():
            continue
        key, _, value = pair.strip().partition(" ")
        try:
            meta[key] = base64.b64decode(value, validate=True).decode("utf-8") if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise TusError(f"Upload-Metadata value of {key!r} is not base64 UTF-8") from None
    return meta


def _appenders(request: Request) -> Appenders:
    return request.app.state.appenders  # type: ignore[no-any-return]


@router.options("/uploads", include_in_schema=False)
@router.options("/uploads/{upload_id}", include_in_schema=False)
def discover() -> Response:
    return Response(
        status_code=204,
        headers=_headers(
            {
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": EXTENSIONS,
                "Tus-Max-Size": str(uploads.MAX_SIZE),
                "Tus-Checksum-Algorithm": ",".join(CHECKSUMS),
            }
        ),
    )


@router.post("/uploads", status_code=201, summary="Create a resumable upload (tus)")
async def create(request: Request, user: CurrentUser, rt: RuntimeDep) -> Response:
    if wrong := _wrong_version(request):
        return wrong
    try:
        length = int(request.headers.get("upload-length", ""))
    except ValueError:
        raise TusError("Upload-Length must be a non-negative integer") from None
    meta = parse_metadata(request.headers.get("upload-metadata"))

    def start() -> uploads.UploadView:
        with rt.db.write() as s:
            return uploads.create(
                s, user.account_id, length=length, meta=meta, now=rt.clock.now_ms()
            )

    if _whole_body(request, length):
        return await _create_whole(request, rt, user.account_id, length, meta)
    made = await run_in_threadpool(start)
    headers = {
        "Location": f"/api/v1/uploads/{made.public_id}",
        "Upload-Expires": _expires(made.expires_at),
        "Upload-Offset": "0",
    }
    if request.headers.get("content-type") == "application/offset+octet-stream":
        answer = await _append(request, rt, user.account_id, made.public_id, 0)
        if answer.status_code != 204:
            return answer
        headers["Upload-Offset"] = answer.headers["upload-offset"]
        for name in _FILE_HEADERS:
            if name.lower() in answer.headers:
                headers[name] = answer.headers[name.lower()]
    return Response(status_code=201, headers=_headers(headers))


def _whole_body(request: Request, length: int) -> bool:
    """Whether the creating request brings every byte (then nothing needs checkpoints)."""
    return (
        length > 0
        and request.headers.get("content-type") == "application/offset+octet-stream"
        and request.headers.get("content-length") == str(length)
    )


async def _create_whole(
    request: Request, rt: Runtime, account_id: int, length: int, meta: dict[str, str]
) -> Response:
    """Creation-with-upload of the whole file: see :mod:`strongroom.locker.whole_uploads`."""

    def start() -> WholeUpload:
        with rt.db.read() as s:
            vault = vault_for(s, rt.store, rt.keyring, account_id)
        return WholeUpload(rt.db, vault, rt.clock, account_id, length=length, meta=meta)

    checksum = _checksum(request)
    whole = await run_in_threadpool(start)
    try:
        await _feed(request, whole.write, checksum)
    except _Cut:
        return Response(status_code=400)  # no answer, no address: nobody can resume it
    if checksum and checksum[0].digest() != checksum[1]:
        return Response(status_code=460, headers=_headers(), content=b"Checksum Mismatch")
    made, stored = await run_in_threadpool(
        lambda: whole.finish(keep_versions=rt.settings.file_versions_kept)
    )
    headers = {
        "Location": f"/api/v1/uploads/{made.public_id}",
        "Upload-Expires": _expires(made.expires_at),
        "Upload-Offset": str(made.offset),
    }
    if stored is not None:
        headers |= _file_headers(stored)
        request.app.state.events.poke()
    return Response(status_code=201, headers=_headers(headers))


@router.head("/uploads/{upload_id}", include_in_schema=False)
def status(upload_id: str, request: Request, user: CurrentUser, rt: RuntimeDep) -> Response:
    if wrong := _wrong_version(request):
        return wrong
    with rt.db.read() as s:
        up = uploads.view(s, user.account_id, upload_id, rt.clock.now_ms())
    headers = {
        "Upload-Offset": str(up.offset),
        "Upload-Length": str(up.length),
        "Upload-Expires": _expires(up.expires_at),
    }
    if up.file_id is not None:
        headers["Strongroom-File-Id"] = str(up.file_id)
    return Response(status_code=200, headers=_headers(headers))


class UploadOut(BaseModel):
    id: str
    length: int
    offset: int
    expires_at: int
    file_id: str | None


@router.get("/uploads/{upload_id}", summary="An upload's progress (JSON)")
def describe(upload_id: str, user: CurrentUser, rt: RuntimeDep) -> UploadOut:
    with rt.db.read() as s:
        up = uploads.view(s, user.account_id, upload_id, rt.clock.now_ms())
    return UploadOut(
        id=up.public_id,
        length=up.length,
        offset=up.offset,
        expires_at=up.expires_at,
        file_id=str(up.file_id) if up.file_id is not None else None,
    )


@router.patch("/uploads/{upload_id}", status_code=204, include_in_schema=False)
async def append(upload_id: str, request: Request, user: CurrentUser, rt: RuntimeDep) -> Response:
    if wrong := _wrong_version(request):
        return wrong
    if request.headers.get("content-type") != "application/offset+octet-stream":
        return Response(status_code=415, headers=_headers())
    try:
        offset = int(request.headers.get("upload-offset", ""))
    except ValueError:
        raise TusError("Upload-Offset must be an integer") from None
    return await _append(request, rt, user.account_id, upload_id, offset)


@router.delete("/uploads/{upload_id}", status_code=204, include_in_schema=False)
def terminate(upload_id: str, request: Request, user: CurrentUser, rt: RuntimeDep) -> Response:
    if wrong := _wrong_version(request):
        return wrong
    with rt.db.write() as s:
        uploads.terminate(s, user.account_id, upload_id, rt.clock.now_ms())
    _appenders(request).forget(upload_id)
    return Response(status_code=204, headers=_headers())


class _Cut(Exception):
    """The client went away mid-body; ``rest`` arrived but was not handed over yet."""

    def __init__(self, rest: bytearray) -> None:
        super().__init__("the client disconnected")
        self.rest = rest


async def _feed(
    request: Request,
    write: Callable[[bytearray], object],
    checksum: tuple[hashlib._Hash, bytes] | None,
) -> None:
    """Hand the request's body to ``write`` on a worker thread, :data:`_PIECE` bytes at a time
    (each piece handed over, not copied: writers keep no reference to it), updating the
    checksum's hash as it comes.  Raises _Cut when the client disconnects."""
    buffer = bytearray()
    try:
        async for piece in request.stream():
            if checksum:
                checksum[0].update(piece)
            buffer += piece
            if len(buffer) >= _PIECE:
                await run_in_threadpool(write, buffer)
                buffer = bytearray()
    except ClientDisconnect:
        raise _Cut(buffer) from None
    if buffer:
        await run_in_threadpool(write, buffer)


def _checksum(request: Request) -> tuple[hashlib._Hash, bytes] | None:
    header = request.headers.get("upload-checksum")
    if header is None:
        return None
    algorithm, _, value = header.partition(" ")
    if algorithm not in CHECKSUMS:
        raise TusError(f"unsupported checksum algorithm {algorithm!r}")
    try:
        return CHECKSUMS[algorithm](), base64.b64decode(value, validate=True)
    except binascii.Error:
        raise TusError("Upload-Checksum is not base64") from None


def _load(rt: Runtime, account_id: int, upload_id: str, offset: int) -> uploads.Appender:
    with rt.db.read() as s:
        upload = uploads.get(s, account_id, upload_id, rt.clock.now_ms())
        vault = vault_for(s, rt.store, rt.keyring, account_id)
    if upload.offset != offset or upload.finished_at is not None:
        raise uploads.OffsetMismatch(
            f"the upload is at offset {upload.offset}", offset=upload.offset
        )
    return uploads.Appender.load(rt.db, vault, rt.clock, upload)


async def _append(
    request: Request, rt: Runtime, account_id: int, upload_id: str, offset: int
) -> Response:
    registry = _appenders(request)
    async with registry.lock(upload_id):
        appender = registry.take(upload_id)
        if appender is None or appender.offset != offset:
            appender = await run_in_threadpool(_load, rt, account_id, upload_id, offset)
        checksum = _checksum(request)
        try:
            await _feed(request, appender.write, checksum)
        except _Cut as cut:
            if checksum is None:  # keep what arrived; with a checksum nothing can be trusted
                await run_in_threadpool(appender.write, bytes(cut.rest))
                await run_in_threadpool(appender.checkpoint)
                registry.keep(appender)
            return Response(status_code=400)
        except StrongroomError:
            registry.forget(upload_id)
            raise
        if checksum and checksum[0].digest() != checksum[1]:
            registry.forget(upload_id)  # rebuilt from the last checkpoint next time
            return Response(status_code=460, headers=_headers(), content=b"Checksum Mismatch")
        new_offset = await run_in_threadpool(appender.checkpoint)
        headers = {"Upload-Offset": str(new_offset)}
        if new_offset == appender.length:
            made, _ = await run_in_threadpool(
                uploads.complete,
                rt.db,
                appender,
                rt.clock,
                keep_versions=rt.settings.file_versions_kept,
            )
            registry.forget(upload_id)
            if made is not None:
                headers |= _file_headers(made)
                request.app.state.events.poke()
        else:
            registry.keep(appender)
        return Response(status_code=204, headers=_headers(headers))
