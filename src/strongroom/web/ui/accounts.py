"""Pages for signing up, logging in and out, the password and reactivation."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from strongroom.accounts import lifecycle, service, sessions
from strongroom.errors import PermissionDenied, StrongroomError
from strongroom.web import deps
from strongroom.web.api.devices import login_policy
from strongroom.web.deps import RuntimeDep
from strongroom.web.errors import status_of
from strongroom.web.pages import render
from strongroom.web.ui.access import check_form, require_user

router = APIRouter(include_in_schema=False)


def _login_csrf(request: Request) -> str:
    """The pre-session CSRF token (double-submit cookie) for the sign-up and log-in forms."""
    return request.cookies.get(deps.CSRF_COOKIE) or secrets.token_urlsafe(32)


def _set_login_csrf(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(
        deps.CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def _check_login_csrf(request: Request, form: Any) -> None:
    deps.check_same_origin(request)
    cookie = request.cookies.get(deps.CSRF_COOKIE, "")
    submitted = str(form.get("csrf_token", ""))
    if not cookie or not hmac.compare_digest(cookie, submitted):
        raise PermissionDenied("the form expired or came from another site; please try again")


def _start_session(request: Request, rt: RuntimeDep, account_id: int, target: str) -> Response:
    with rt.db.write() as s:
        token, _csrf = sessions.start_session(
            s,
            account_id,
            user_agent=request.headers.get("user-agent", ""),
            now=rt.clock.now_ms(),
            lifetime_ms=rt.settings.session_days * 86_400_000,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        deps.SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
        max_age=rt.settings.session_days * 86_400,
    )
    response.delete_cookie(deps.CSRF_COOKIE, path="/")
    return response


def _auth_page(
    request: Request, template: str, rt: RuntimeDep, *, error: str | None = None, status: int = 200
) -> Response:
    token = _login_csrf(request)
    context = {"csrf_token": token, "error": error, "open_signup": rt.settings.open_signup}
    response = render(request, template, context, status=status)
    return _set_login_csrf(request, response, token)


@router.get("/")
def home(request: Request, rt: RuntimeDep) -> Response:
    target = "/dashboard" if deps.optional_principal(request, rt) else "/login"
    return RedirectResponse(target, status_code=303)


@router.get("/signup")
def signup_page(request: Request, rt: RuntimeDep) -> Response:
    return _auth_page(request, "accounts/signup.html", rt)


@router.post("/signup")
async def signup(request: Request, rt: RuntimeDep) -> Response:
    form = await request.form()
    _check_login_csrf(request, form)
    if not rt.settings.open_signup:
        return _auth_page(
            request, "accounts/signup.html", rt, error="Sign-up is closed.", status=403
        )
    password = str(form.get("password", ""))
    if password != str(form.get("confirm", "")):
        return _auth_page(
            request, "accounts/signup.html", rt, error="The passwords do not match.", status=400
        )
    try:
        with rt.db.write() as s:
            account = service.sign_up(s, rt, str(form.get("user", "")), password)
    except StrongroomError as e:
        return _auth_page(request, "accounts/signup.html", rt, error=e.detail, status=status_of(e))
    return _start_session(request, rt, account.id, "/dashboard")


@router.get("/login")
def login_page(request: Request, rt: RuntimeDep) -> Response:
    if deps.optional_principal(request, rt):
        return RedirectResponse("/dashboard", status_code=303)
    return _auth_page(request, "accounts/login.html", rt)


@router.post("/login")
async def login(request: Request, rt: RuntimeDep) -> Response:
    form = await request.form()
    _check_login_csrf(request, form)
    try:
        account = service.verify_login(
            rt.db,
            str(form.get("user", "")),
            str(form.get("password", "")),
            address=deps.client_address(request),
            policy=login_policy(rt),
            clock=rt.clock,
        )
    except StrongroomError as e:
        return _auth_page(request, "accounts/login.html", rt, error=e.detail, status=status_of(e))
    target = "/dashboard" if account.status == "active" else "/account/reactivate"
    return _start_session(request, rt, account.id, target)


@router.post("/logout")
async def logout(request: Request, rt: RuntimeDep) -> Response:
    principal = deps.optional_principal(request, rt)
    if principal is not None:
        form = await request.form()
        check_form(request, principal, form)
        assert principal.session_pk is not None
        with rt.db.write() as s:
            sessions.end_session(s, principal.session_pk)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(deps.SESSION_COOKIE, path="/")
    return response


@router.get("/account/password")
def password_page(request: Request, rt: RuntimeDep) -> Response:
    principal = require_user(request, rt, active=False)
    if isinstance(principal, Response):
        return principal
    return render(
        request,
        "accounts/password.html",
        {"active": "account", "tab": "password"},
        principal=principal,
    )


@router.post("/account/password")
async def password_change(request: Request, rt: RuntimeDep) -> Response:
    principal = require_user(request, rt, active=False)
    if isinstance(principal, Response):
        return principal
    form = await request.form()
    check_form(request, principal, form)
    new = str(form.get("new_password", ""))
    error = None if new == str(form.get("confirm", "")) else "The new passwords do not match."
    if error is None:
        try:
            with rt.db.write() as s:
                service.change_password(
                    s,
                    principal.account_id,
                    str(form.get("old_password", "")),
                    new,
                    rt.clock.now_ms(),
                )
                sessions.end_other_sessions(s, principal.account_id, principal.session_pk)
        except StrongroomError as e:
            error = e.detail
    context = {"error": error, "done": error is None, "active": "account", "tab": "password"}
    return render(
        request,
        "accounts/password.html",
        context,
        principal=principal,
        status=200 if error is None else 400,
    )


@router.get("/account/reactivate")
def reactivate_page(request: Request, rt: RuntimeDep) -> Response:
    principal = require_user(request, rt, active=False)
    if isinstance(principal, Response):
        return principal
    if principal.active:
        return RedirectResponse("/dashboard", status_code=303)
    with rt.db.read() as s:
        account = service.AccountView.of(service.get_account(s, principal.account_id))
    return render(request, "accounts/reactivate.html", {"account": account}, principal=principal)


@router.post("/account/reactivate")
async def reactivate(request: Request, rt: RuntimeDep) -> Response:
    principal = require_user(request, rt, active=False)
    if isinstance(principal, Response):
        return principal
    check_form(request, principal, await request.form())
    with rt.db.write() as s:
        lifecycle.reactivate(s, principal.account_id, now=rt.clock.now_ms())
    return RedirectResponse("/dashboard", status_code=303)
