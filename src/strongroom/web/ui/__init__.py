"""The HTML pages, one module per domain."""

from __future__ import annotations

from fastapi import APIRouter

from strongroom.web.ui import accounts, shares


def router() -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    pages.include_router(accounts.router)
    pages.include_router(shares.router)
    return pages
