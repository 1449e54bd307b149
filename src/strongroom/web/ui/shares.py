"""Public share pages at ``/s/{token}``: a gallery or a single file, downloads, a password prompt.

Nothing of the account is shown beyond the shared items.  Unknown, revoked, expired and used-up
links all get the same "not available" page, and failures (unknown tokens, wrong passwords) are
counted per address: after too many the address is refused for a while.
"""

from __future__ import annotations

import hmac
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from strongroom.accounts import throttle
from strongroom.locker import shares
from strongroom.locker.downloads import FileStream, open_file, open_thumbnail
from strongroom.locker.models import Share
from strongroom.runtime import Runtime
from strongroom.sync.tokens import parse_id
from strongroom.web import deps
from strongroom.web.deps import RuntimeDep
from strongroom.web.downloads import send_content
from strongroom.web.pages import render
from strongroom.zipstream import Entry, stream_zip

router = APIRouter(include_in_schema=False)
COOKIE = "strongroom_share"


def _policy(rt: Runtime) -> throttle.LoginPolicy:
    st = rt.settings
    return throttle.LoginPolicy(
        slow_after=st.login_slow_after,
        max_failures=st.login_max_failures * 2,
        lockout_ms=st.login_lockout_seconds * 1000,
        delay_cap_s=0,
    )


def _keys(request: Request) -> list[str]:
    return [f"share-ip:{deps.client_address(request) or 'unknown'}"]


def _secret(rt: Runtime) -> bytes:
    assert rt.keyring.current is not None
    return hmac.new(rt.keyring.current.secret, b"strongroom share access", "sha256").digest()


def _unavailable(request: Request, rt: Runtime) -> Response:
    with rt.db.write() as s:
        throttle.record_failure(s, _keys(request), _policy(rt), rt.clock.now_ms())
    return render(request, "shares/unavailable.html", {}, status=404)


def _open(request: Request, rt: Runtime, token: str) -> Share | Response:
    """The share, if the link is live and the visitor may see it; otherwise the page to show."""
    with rt.db.read() as s:
        throttle.check_allowed(s, _keys(request), rt.clock.now_ms())
        try:
            share = shares.resolve(s, token, rt.clock.now_ms())
        except shares.ShareUnavailable:
            return _unavailable(request, rt)
    if share.password_hash is not None:
        given = request.cookies.get(f"{COOKIE}_{share.id}", "")
        if not hmac.compare_digest(given, shares.access_tag(_secret(rt), share)):
            return render(request, "shares/password.html", {"token": token, "error": None})
    return share


@router.get("/s/{token}")
def share_page(token: str, request: Request, rt: RuntimeDep) -> Response:
    share = _open(request, rt, token)
    if isinstance(share, Response):
        return share
    with rt.db.read() as s:
        shown = shares.shared_files(s, share)
    context = {
        "token": token,
        "files": shown,
        "kind": share.kind,
        "single": share.kind == "file" and len(shown) == 1,
    }
    return render(request, "shares/gallery.html", context)


@router.post("/s/{token}")
async def unlock(token: str, request: Request, rt: RuntimeDep) -> Response:
    deps.check_same_origin(request)
    form = await request.form()
    with rt.db.read() as s:
        throttle.check_allowed(s, _keys(request), rt.clock.now_ms())
        try:
            share = shares.resolve(s, token, rt.clock.now_ms())
        except shares.ShareUnavailable:
            return _unavailable(request, rt)
    if not shares.password_ok(share, str(form.get("password", ""))):
        with rt.db.write() as s:
            throttle.record_failure(s, _keys(request), _policy(rt), rt.clock.now_ms())
        context = {"token": token, "error": "That password is not right."}
        return render(request, "shares/password.html", context, status=403)
    response = RedirectResponse(f"/s/{token}", status_code=303)
    response.set_cookie(
        f"{COOKIE}_{share.id}",
        shares.access_tag(_secret(rt), share),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=f"/s/{token}",
        max_age=86_400,
    )
    return response


def _file_stream(
    request: Request,
    rt: Runtime,
    token: str,
    file_id: str,
    what: Literal["content", "small", "large"],
) -> FileStream | Response:
    share = _open(request, rt, token)
    if isinstance(share, Response):
        return share
    fid = parse_id(file_id)
    with rt.db.write() as s:
        try:
            shares.shared_file(s, share, fid if fid is not None else -1)
            if what == "content" and request.query_params.get("download"):
                shares.count_download(s, share.id)
        except shares.ShareUnavailable:
            return render(request, "shares/unavailable.html", {}, status=404)
    if what == "content":
        return open_file(rt, share.account_id, fid or -1)
    return open_thumbnail(rt, share.account_id, fid or -1, what)


@router.get("/s/{token}/f/{file_id}")
def shared_content(token: str, file_id: str, request: Request, rt: RuntimeDep) -> Response:
    stream = _file_stream(request, rt, token, file_id, "content")
    if isinstance(stream, Response):
        return stream
    response = send_content(
        request,
        stream.vault,
        stream.chunks,
        size=stream.size,
        sha256=stream.sha256,
        content_type=stream.content_type,
        filename=stream.filename,
        last_modified=stream.last_modified,
    )
    if request.query_params.get("download"):
        name = response.headers["content-disposition"].split(";", 1)
        response.headers["content-disposition"] = "attachment" + (
            ";" + name[1] if len(name) > 1 else ""
        )
    return response


@router.get("/s/{token}/t/{file_id}")
def shared_thumbnail(
    token: str,
    file_id: str,
    request: Request,
    rt: RuntimeDep,
    size: Literal["small", "large"] = "small",
) -> Response:
    stream = _file_stream(request, rt, token, file_id, size)
    if isinstance(stream, Response):
        return stream
    return send_content(
        request,
        stream.vault,
        stream.chunks,
        size=stream.size,
        sha256=stream.sha256,
        content_type=stream.content_type,
        filename=None,
    )


@router.get("/s/{token}/zip")
def shared_zip(token: str, request: Request, rt: RuntimeDep) -> Response:
    share = _open(request, rt, token)
    if isinstance(share, Response):
        return share
    with rt.db.write() as s:
        shown = shares.shared_files(s, share)
        try:
            shares.count_download(s, share.id)
        except shares.ShareUnavailable:
            return render(request, "shares/unavailable.html", {}, status=404)
    streams = [(f.name, f.modified_at / 1000, open_file(rt, share.account_id, f.id)) for f in shown]

    def entries() -> list[Entry]:
        from strongroom.content.store import read_range
        from strongroom.zipstream import unique_names

        names = unique_names(n for n, _, _ in streams)
        return [
            Entry(n, m, st.size, read_range(st.vault, st.chunks))
            for n, (_, m, st) in zip(names, streams, strict=True)
        ]

    return StreamingResponse(
        stream_zip(entries()),
        media_type="application/zip",
        headers={
            "Content-Disposition": 'attachment; filename="shared.zip"',
            "Cache-Control": "no-store",
        },
    )
