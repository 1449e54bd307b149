"""The JSON API under ``/api/v1``, one module per domain."""

from __future__ import annotations

from fastapi import FastAPI

from strongroom.web.api import (
    accounts,
    albums,
    conversations,
    devices,
    exports,
    files,
    folders,
    imports,
    messages,
    shares,
    system,
    trash,
    uploads,
)

MODULES = (
    system,
    accounts,
    devices,
    messages,
    conversations,
    uploads,
    files,
    folders,
    trash,
    albums,
    shares,
    exports,
    imports,
)


def install(app: FastAPI) -> None:
    """Add every API module's routes under ``/api/v1`` (directly: no nested routers to walk)."""
    for module in MODULES:
        app.include_router(module.router, prefix="/api/v1")
