"""The JSON API under ``/api/v1``, one module per domain."""

from __future__ import annotations

from fastapi import APIRouter

from strongroom.web.api import accounts, conversations, devices, exports, messages, system


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1")
    for module in (system, accounts, devices, messages, conversations, exports):
        api.include_router(module.router)
    return api
