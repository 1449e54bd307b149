"""Request dependencies: the runtime, who is calling, and CSRF checks.

API calls authenticate with ``Authorization: Bearer <device token>`` or the web session cookie;
cookie-authenticated calls that change something must also carry ``X-CSRF-Token``.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from strongroom.accounts import auth, devices, sessions
from strongroom.accounts.errors import AccountOnHold
from strongroom.errors import NotAuthenticated, PermissionDenied
from strongroom.runtime import Runtime

SESSION_COOKIE = "strongroom_session"
CSRF_COOKIE = "strongroom_csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SESSION_REFRESH_MS = 3_600_000


async def get_runtime(request: Request) -> Runtime:
    # async on purpose: FastAPI runs sync dependencies in its threadpool, one hop each, and
    # these do no I/O (the hops cost more than the work on hot sync paths).
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("use 'Authorization: Bearer <device token>'")
    return token.strip()


def resolve_principal(request: Request, rt: Runtime) -> auth.Principal:
    """Who is calling, by bearer token or session cookie.  Raises NotAuthenticated."""
    cached: auth.Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    now = rt.clock.now_ms()
    token = _bearer(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if token is None and cookie is None:
        raise NotAuthenticated()
    with rt.db.read() as s:
        if token is not None:
            principal = auth.principal_from_token(s, token, now)
        else:
            assert cookie is not None
            principal = auth.principal_from_session(s, cookie, now)
    _touch(rt, principal, now)
    request.state.principal = principal
    return principal


def _touch(rt: Runtime, principal: auth.Principal, now: int) -> None:
    """Record last-seen times, at most once a minute (devices) or an hour (sessions)."""
    seen = principal.last_seen_at or 0
    if principal.device_pk is not None and now - seen >= devices.SEEN_RESOLUTION_MS:
        with rt.db.write() as s:
            devices.touch_device(s, principal.device_pk, now)
    elif principal.session_pk is not None and now - seen >= _SESSION_REFRESH_MS:
        with rt.db.write() as s:
            sessions.extend_session(
                s,
                principal.session_pk,
                now=now,
                lifetime_ms=rt.settings.session_days * 86_400_000,
            )


def check_csrf(request: Request, principal: auth.Principal, submitted: str | None) -> None:
    """Refuse a cookie-authenticated change without the session's CSRF token."""
    if principal.session_pk is None or request.method in _SAFE_METHODS:
        return
    expected = principal.csrf_token or ""
    if not submitted or not hmac.compare_digest(submitted, expected):
        raise PermissionDenied("missing or wrong CSRF token; reload the page and try again")


def any_principal(request: Request, rt: RuntimeDep) -> auth.Principal:
    """The caller, even if their account is on hold (for reactivation and the account page)."""
    principal = resolve_principal(request, rt)
    if principal.session_pk is not None and request.method not in _SAFE_METHODS:
        check_same_origin(request)
        check_csrf(request, principal, request.headers.get(CSRF_HEADER))
    return principal


async def active_principal(
    principal: Annotated[auth.Principal, Depends(any_principal)],
) -> auth.Principal:
    """The caller, whose account must be active."""
    if not principal.active:
        raise AccountOnHold("this account is cancelled; reactivate it to use it again")
    return principal


CurrentUser = Annotated[auth.Principal, Depends(active_principal)]
AnyUser = Annotated[auth.Principal, Depends(any_principal)]


def check_same_origin(request: Request) -> None:
    """Refuse a state-changing browser request that another site started.

    Browsers send ``Origin`` on cross-origin (and same-origin) POSTs and ``Sec-Fetch-Site``
    on every request; either one naming another site is refused.
    """
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
        if origin != expected:
            raise PermissionDenied("this form was sent from another site and is refused")
    elif origin == "null":
        raise PermissionDenied("this form was sent from another site and is refused")
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise PermissionDenied("this form was sent from another site and is refused")


def optional_principal(request: Request, rt: Runtime) -> auth.Principal | None:
    """The logged-in browser user, or None (pages redirect to the log-in page)."""
    if SESSION_COOKIE not in request.cookies:
        return None
    try:
        return resolve_principal(request, rt)
    except NotAuthenticated:
        return None
