"""Share links: create (file, folder or album; password, expiry, download limit), list, revoke."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from strongroom.accounts.keys import vault_key
from strongroom.errors import NotFound
from strongroom.locker import shares
from strongroom.sync.tokens import parse_id
from strongroom.web.deps import CurrentUser, RuntimeDep

router = APIRouter(tags=["shares"])


class ShareIn(BaseModel):
    kind: Literal["file", "folder", "album"]
    target_id: str
    password: str | None = Field(None, max_length=1024)
    expires_at: int | None = Field(None, description="UTC milliseconds; none: never expires")
    max_downloads: int | None = Field(None, ge=1)


class ShareOut(BaseModel):
    id: str
    token: str
    url: str
    kind: str
    target_id: str
    has_password: bool
    expires_at: int | None
    max_downloads: int | None
    downloads: int
    created_at: int


class ShareList(BaseModel):
    shares: list[ShareOut]


def _url(request: Request, base: str | None, token: str) -> str:
    root = (base or str(request.base_url)).rstrip("/")
    return f"{root}/s/{token}"


def _out(request: Request, rt: RuntimeDep, v: shares.ShareView) -> ShareOut:
    return ShareOut(
        id=str(v.id),
        token=v.token,
        url=_url(request, rt.settings.public_url, v.token),
        kind=v.kind,
        target_id=str(v.target_id),
        has_password=v.has_password,
        expires_at=v.expires_at,
        max_downloads=v.max_downloads,
        downloads=v.downloads,
        created_at=v.created_at,
    )


def _id(text: str) -> int:
    value = parse_id(text)
    if value is None:
        raise NotFound("no such item")
    return value


@router.post("/shares", status_code=201, summary="Share a file, folder or album by link")
def create_share(body: ShareIn, request: Request, user: CurrentUser, rt: RuntimeDep) -> ShareOut:
    with rt.db.write() as s:
        key = vault_key(s, rt.keyring, user.account_id)
        made = shares.create(
            s,
            key,
            user.account_id,
            kind=body.kind,
            target_id=_id(body.target_id),
            password=body.password or None,
            expires_at=body.expires_at,
            max_downloads=body.max_downloads,
            now=rt.clock.now_ms(),
        )
    return _out(request, rt, made)


@router.get("/shares", summary="Live share links")
def list_shares(request: Request, user: CurrentUser, rt: RuntimeDep) -> ShareList:
    with rt.db.read() as s:
        key = vault_key(s, rt.keyring, user.account_id)
        found = shares.list_shares(s, key, user.account_id)
    return ShareList(shares=[_out(request, rt, v) for v in found])


@router.delete("/shares/{share_id}", status_code=204, summary="Revoke a link at once")
def revoke_share(share_id: str, user: CurrentUser, rt: RuntimeDep) -> Response:
    with rt.db.write() as s:
        shares.revoke(s, user.account_id, _id(share_id), rt.clock.now_ms())
    return Response(status_code=204)
