"""The JSON API under ``/api/v1``, one module per domain."""

from __future__ import annotations

from fastapi import APIRouter

from strongroom.web.api import (
    accounts,
    albums,
    conversations,
    devices,
    files,
    folders,
    messages,
    shares,
    system,
    uploads,
)


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1")
    for module in (
        system,
        accounts,
        devices,
        messages,
        conversations,
        uploads,
        files,
        folders,
        albums,
        shares,
    ):
        api.include_router(module.router)
    return api
