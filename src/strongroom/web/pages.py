"""Rendering pages: the Jinja2 environment, the navigation, shared template context and filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from strongroom import __version__
from strongroom.accounts.auth import Principal
from strongroom.units import human_bytes, human_time

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class NavItem:
    """One destination of the main navigation (a sidebar on desktops, a tab bar on phones)."""

    key: str
    """What pages pass as ``active`` to highlight it."""
    label: str
    href: str
    icon: str
    """An id in ``static/icons.svg``."""
    section: str = ""
    """The sidebar heading it sits under; items of one section are listed together."""
    on_phone: bool = True
    """Shown in the phone's bottom tab bar (keep that to five items at most)."""


NAV: tuple[NavItem, ...] = (
    NavItem("messages", "Messages", "/messages", "chat"),
    # The phone bar keeps Photos and All files of the locker; the locker pages show all its
    # tabs in a strip of their own on phones.
    NavItem("photos", "Photos", "/locker/photos", "photos", "Locker"),
    NavItem("videos", "Videos", "/locker/videos", "videos", "Locker", on_phone=False),
    NavItem("music", "Music", "/locker/music", "music", "Locker", on_phone=False),
    NavItem("documents", "Documents", "/locker/documents", "documents", "Locker", on_phone=False),
    NavItem("files", "All files", "/locker/files", "files", "Locker"),
    NavItem("albums", "Albums", "/locker/albums", "album", "Locker", on_phone=False),
    NavItem("trash", "Trash", "/locker/trash", "trash", "Locker", on_phone=False),
    NavItem("account", "Account", "/dashboard", "person"),
)

ACCOUNT_TABS: tuple[NavItem, ...] = (
    NavItem("overview", "Overview", "/dashboard", "person"),
    NavItem("devices", "Devices", "/account/devices", "phone"),
    NavItem("messages-settings", "Messages", "/account/messages", "chat"),
    NavItem("password", "Password", "/account/password", "key"),
    NavItem("cancel", "Cancel account", "/account/cancel", "warning"),
)


def ago(ms: int | None, now: int) -> str:
    """'just now', '5 minutes ago', '3 days ago' ('never' for None)."""
    if ms is None:
        return "never"
    seconds = max(0, now - ms) // 1000
    for size, unit in ((86_400 * 365, "year"), (86_400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def iso(ms: int | None) -> str:
    """UTC milliseconds as ISO 8601, for ``<time datetime>`` (the browser shows local time)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def clock_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M")


def day(ms: int) -> str:
    when = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{when:%A}, {when.day} {when:%B %Y}"


def short_date(ms: int | None, now: int) -> str:
    """A list's date column: the time today, the date otherwise."""
    if ms is None:
        return ""
    when = datetime.fromtimestamp(ms / 1000, UTC)
    today = datetime.fromtimestamp(now / 1000, UTC)
    if when.date() == today.date():
        return when.strftime("%H:%M")
    if when.year == today.year:
        return f"{when.day} {when:%b}"
    return f"{when.day} {when:%b %Y}"


def count(n: int) -> str:
    return f"{n:,}"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters["bytes"] = human_bytes
    env.filters["when"] = human_time
    env.filters["ago"] = ago
    env.filters["iso"] = iso
    env.filters["clock"] = clock_time
    env.filters["day"] = day
    env.filters["short_date"] = short_date
    env.filters["count"] = count
    env.globals["version"] = __version__
    env.globals["nav"] = NAV
    env.globals["account_tabs"] = ACCOUNT_TABS
    return templates


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    principal: Principal | None = None,
    status: int = 200,
) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    full = {
        "principal": principal,
        "csrf_token": principal.csrf_token if principal else None,
        "now": request.app.state.runtime.clock.now_ms(),
    }
    full.update(context)
    response = templates.TemplateResponse(request, template, full, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response
