"""Who may see a page: the logged-in browser user, and the CSRF check of the forms they send."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from strongroom.accounts import auth
from strongroom.runtime import Runtime
from strongroom.web import deps


def require_user(
    request: Request, rt: Runtime, *, active: bool = True
) -> auth.Principal | Response:
    """The logged-in user, or a redirect: to the log-in page, or (``active``) to reactivation."""
    principal = deps.optional_principal(request, rt)
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    if active and not principal.active:
        return RedirectResponse("/account/reactivate", status_code=303)
    return principal


def check_form(request: Request, principal: auth.Principal, form: Any) -> None:
    """Refuse a form that another site sent or that lacks the session's CSRF token."""
    deps.check_same_origin(request)
    deps.check_csrf(request, principal, str(form.get("csrf_token", "")))
