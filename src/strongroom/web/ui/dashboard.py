"""The dashboard: backup health of each device, storage used by category, and the services."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from strongroom.accounts import devices, service, usage
from strongroom.accounts.devices import DeviceView
from strongroom.clock import DAY_MS
from strongroom.web.deps import RuntimeDep
from strongroom.web.pages import render
from strongroom.web.ui.access import require_user

router = APIRouter(include_in_schema=False)

SILENT_AFTER_MS = DAY_MS
"""A device that has backed up before and not been heard from for this long gets a warning."""

_MIN_SEGMENT = 0.6
"""Percent: a category that holds anything stays visible on the usage bar."""


@dataclass(frozen=True)
class Health:
    """How a device's backups are going: ``ok``, ``silent`` (warn) or ``new`` (never backed up)."""

    device: DeviceView
    state: str
    silent_ms: int = 0


def backup_health(found: list[DeviceView], now: int) -> list[Health]:
    """Each device's backup state; a device is silent when it has uploaded before and made no
    request at all for more than a day (its last contact, not its last upload: a phone with
    nothing new to send still checks in)."""
    health = []
    for d in found:
        last_contact = max(d.last_seen_at or 0, d.last_upload_at or 0)
        if d.last_upload_at is None:
            health.append(Health(d, "new"))
        elif now - last_contact > SILENT_AFTER_MS:
            health.append(Health(d, "silent", now - last_contact))
        else:
            health.append(Health(d, "ok"))
    return health


@dataclass(frozen=True)
class Segment:
    category: str
    bytes: int
    start: float
    width: float


def usage_segments(used: usage.Usage) -> list[Segment]:
    """The stacked usage bar: each category's share of the quota, in percent."""
    segments: list[Segment] = []
    start = 0.0
    quota = used.quota_bytes or 1
    for category, nbytes in used.by_category.items():
        if nbytes <= 0:
            continue
        width = min(100.0 - start, max(_MIN_SEGMENT, 100.0 * nbytes / quota))
        segments.append(Segment(category, nbytes, round(start, 3), round(width, 3)))
        start += width
    return segments


@router.get("/dashboard")
def dashboard(request: Request, rt: RuntimeDep) -> Response:
    principal = require_user(request, rt)
    if isinstance(principal, Response):
        return principal
    with rt.db.read() as s:
        account = service.AccountView.of(service.get_account(s, principal.account_id))
        used = usage.usage(s, principal.account_id)
        device_list = devices.list_devices(s, principal.account_id)
    health = backup_health(device_list, rt.clock.now_ms())
    context = {
        "account": account,
        "usage": used,
        "segments": usage_segments(used),
        "health": health,
        "silent": [h for h in health if h.state == "silent"],
        "active": "account",
        "tab": "overview",
    }
    return render(request, "accounts/dashboard.html", context, principal=principal)
