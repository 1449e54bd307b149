"""Rendering pages: the Jinja2 environment, shared template context and filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from strongroom import __version__
from strongroom.accounts.auth import Principal
from strongroom.units import human_bytes, human_time

TEMPLATES = Path(__file__).parent / "templates"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters["bytes"] = human_bytes
    env.filters["when"] = human_time
    env.globals["version"] = __version__
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
    full = {"principal": principal, "csrf_token": principal.csrf_token if principal else None}
    full.update(context)
    response = templates.TemplateResponse(request, template, full, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response
