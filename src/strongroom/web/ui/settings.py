"""Account settings pages: devices, the messages service, retention, phone numbers, cancelling.

Each form posts here and calls the same account functions as the JSON API
(``/api/v1/devices``, ``/api/v1/account/services/messages``, ``PATCH /api/v1/account``,
``/api/v1/account/cancel``), so the pages work without JavaScript.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from strongroom.accounts import devices, lifecycle, service, usage
from strongroom.accounts.auth import Principal
from strongroom.clock import DAY_MS
from strongroom.errors import StrongroomError
from strongroom.messages import housekeeping
from strongroom.sync import stats
from strongroom.web.deps import RuntimeDep
from strongroom.web.errors import status_of
from strongroom.web.pages import render
from strongroom.web.ui.access import check_form, require_user

router = APIRouter(include_in_schema=False)

_NOTICES = {
    "revoked": "The device was revoked. It can no longer back up or read anything.",
    "on": "Messages backup is on. Your devices will upload their messages at their next sync.",
    "off": "Messages backup is off and the cloud copy was deleted. Your phones keep theirs.",
    "retention": "Your retention setting was saved.",
    "numbers": "Your phone numbers and region were saved.",
}


def _regions() -> list[tuple[str, int]]:
    return sorted(
        (r, phonenumbers.country_code_for_region(r)) for r in phonenumbers.SUPPORTED_REGIONS
    )


def _page(
    request: Request,
    rt: RuntimeDep,
    principal: Principal,
    template: str,
    tab: str,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    with rt.db.read() as s:
        account = service.AccountView.of(service.get_account(s, principal.account_id))
        used = usage.usage(s, principal.account_id)
        found = devices.list_devices(s, principal.account_id)
    context: dict[str, Any] = {
        "account": account,
        "usage": used,
        "devices": found,
        "active": "account",
        "tab": tab,
        "notice": _NOTICES.get(request.query_params.get("done", "")),
        "hold_days": rt.settings.account_hold_days,
        "regions": _regions(),
    }
    context.update(extra or {})
    return render(request, template, context, principal=principal, status=status)


async def _form(request: Request, rt: RuntimeDep) -> tuple[Principal, Any] | Response:
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    form = await request.form()
    check_form(request, principal, form)
    return principal, form


def _done(path: str, what: str) -> Response:
    return RedirectResponse(f"{path}?done={what}", status_code=303)


@router.get("/account/devices")
def devices_page(request: Request, rt: RuntimeDep) -> Response:
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    return _page(request, rt, principal, "accounts/devices.html", "devices")


@router.post("/account/devices/{device_id}/revoke")
async def revoke_device(device_id: str, request: Request, rt: RuntimeDep) -> Response:
    sent = await _form(request, rt)
    if isinstance(sent, Response):
        return sent
    principal, _ = sent
    with rt.db.write() as s:
        devices.revoke_device(s, principal.account_id, device_id, rt.clock.now_ms())
    return _done("/account/devices", "revoked")


@router.get("/account/messages")
def messages_settings(request: Request, rt: RuntimeDep) -> Response:
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    return _page(request, rt, principal, "accounts/messages.html", "messages-settings")


@router.post("/account/messages/on")
async def messages_on(request: Request, rt: RuntimeDep) -> Response:
    sent = await _form(request, rt)
    if isinstance(sent, Response):
        return sent
    principal, form = sent
    with rt.db.write() as s:
        housekeeping.switch(s, principal.account_id, True, None)
    request.app.state.events.poke()
    back = str(form.get("next", ""))
    return _done(back if back in ("/messages", "/dashboard") else "/account/messages", "on")


@router.get("/account/messages/off")
def messages_off_page(request: Request, rt: RuntimeDep) -> Response:
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    return _off_page(request, rt, principal)


def _off_page(
    request: Request, rt: RuntimeDep, principal: Principal, error: str | None = None
) -> Response:
    """The page that asks before messages are turned off, with what that deletes counted."""
    with rt.db.read() as s:
        held = stats.stats(s, principal.account_id)
    extra = {"held": held, "error": error}
    status = 200 if error is None else 400
    return _page(
        request, rt, principal, "accounts/messages_off.html", "messages-settings", extra, status
    )


@router.post("/account/messages/off")
async def messages_off(request: Request, rt: RuntimeDep) -> Response:
    sent = await _form(request, rt)
    if isinstance(sent, Response):
        return sent
    principal, form = sent
    confirm = housekeeping.CONFIRM_OFF if form.get("understood") else None
    try:
        with rt.db.write() as s:
            housekeeping.switch(s, principal.account_id, False, confirm)
    except StrongroomError:
        error = "Tick the box to confirm that the cloud copy of your messages is deleted."
        return _off_page(request, rt, principal, error)
    request.app.state.events.poke()
    return _done("/account/messages", "off")


@router.post("/account/messages/retention")
async def retention(request: Request, rt: RuntimeDep) -> Response:
    sent = await _form(request, rt)
    if isinstance(sent, Response):
        return sent
    principal, form = sent
    days: int | None = None
    if form.get("keep") == "days":
        try:
            days = int(str(form.get("days", "")).strip())
        except ValueError:
            days = 0  # refused below with the account service's own message
    return _save(request, rt, principal, "retention", message_retention_days=days)


@router.post("/account/messages/numbers")
async def phone_numbers(request: Request, rt: RuntimeDep) -> Response:
    sent = await _form(request, rt)
    if isinstance(sent, Response):
        return sent
    principal, form = sent
    numbers = str(form.get("phone_numbers", "")).replace(",", "\n").splitlines()
    region = str(form.get("default_region", "")).strip() or None
    return _save(request, rt, principal, "numbers", phone_numbers=numbers, default_region=region)


def _save(
    request: Request, rt: RuntimeDep, principal: Principal, what: str, **changes: Any
) -> Response:
    try:
        with rt.db.write() as s:
            service.update_settings(s, principal.account_id, **changes)
    except StrongroomError as e:
        return _page(
            request,
            rt,
            principal,
            "accounts/messages.html",
            "messages-settings",
            {"error": e.detail, "error_for": what},
            status=status_of(e),
        )
    return _done("/account/messages", what)


@router.get("/account/cancel")
def cancel_page(request: Request, rt: RuntimeDep) -> Response:
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    until = rt.clock.now_ms() + rt.settings.account_hold_days * DAY_MS
    return _page(request, rt, principal, "accounts/cancel.html", "cancel", {"until": until})


@router.post("/account/cancel")
async def cancel(request: Request, rt: RuntimeDep) -> Response:
    sent = await _form(request, rt)
    if isinstance(sent, Response):
        return sent
    principal, form = sent
    now = rt.clock.now_ms()
    try:
        with rt.db.write() as s:
            service.check_password(s, principal.account_id, str(form.get("password", "")))
            lifecycle.cancel(
                s, principal.account_id, now=now, hold_ms=rt.settings.account_hold_days * DAY_MS
            )
    except StrongroomError as e:
        until = now + rt.settings.account_hold_days * DAY_MS
        extra = {"error": f"Not cancelled: {e.detail}.", "until": until}
        return _page(request, rt, principal, "accounts/cancel.html", "cancel", extra, status=400)
    return RedirectResponse("/account/reactivate", status_code=303)
