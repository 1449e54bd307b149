"""The HTML pages, one module per domain."""

from __future__ import annotations

from fastapi import APIRouter

from strongroom.web.ui import accounts, dashboard, locker, messages, settings, shares


def router() -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    for module in (accounts, dashboard, settings, messages, locker, shares):
        pages.include_router(module.router)
    return pages
