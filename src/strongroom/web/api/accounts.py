"""The account itself: sign-up, the owner's view of the account, password change."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from strongroom.accounts import lifecycle, service, sessions
from strongroom.accounts.errors import SignupClosed
from strongroom.accounts.service import AccountView
from strongroom.clock import DAY_MS
from strongroom.messages import housekeeping
from strongroom.web.deps import AnyUser, CurrentUser, RuntimeDep

router = APIRouter(tags=["account"])


class SignupIn(BaseModel):
    user: str = Field(max_length=200)
    password: str = Field(max_length=4096)


class AccountOut(BaseModel):
    id: str
    user: str
    status: str
    created_at: int
    held_until: int | None
    quota_bytes: int
    default_region: str
    phone_numbers: list[str]
    message_retention_days: int | None
    services: dict[str, bool]

    @classmethod
    def of(cls, a: AccountView) -> AccountOut:
        return cls(
            id=str(a.id),
            user=a.username,
            status=a.status,
            created_at=a.created_at,
            held_until=a.held_until,
            quota_bytes=a.quota_bytes,
            default_region=a.default_region,
            phone_numbers=a.phone_numbers,
            message_retention_days=a.message_retention_days,
            services={"messages": a.messages_enabled},
        )


class PasswordChangeIn(BaseModel):
    old_password: str = Field(max_length=4096)
    new_password: str = Field(max_length=4096)


@router.post("/accounts", status_code=201, summary="Sign up (when open sign-up is on)")
def sign_up(body: SignupIn, rt: RuntimeDep) -> AccountOut:
    if not rt.settings.open_signup:
        raise SignupClosed("sign-up is closed on this server; ask its operator for an account")
    with rt.db.write() as s:
        account = service.sign_up(s, rt, body.user, body.password)
    return AccountOut.of(account)


@router.get("/account", summary="The caller's account and its settings")
def get_account(user: AnyUser, rt: RuntimeDep) -> AccountOut:
    with rt.db.read() as s:
        return AccountOut.of(AccountView.of(service.get_account(s, user.account_id)))


@router.post(
    "/account/password",
    status_code=204,
    summary="Change the password; every other web session is logged out",
)
def change_password(body: PasswordChangeIn, user: AnyUser, rt: RuntimeDep) -> Response:
    with rt.db.write() as s:
        service.change_password(
            s, user.account_id, body.old_password, body.new_password, rt.clock.now_ms()
        )
        sessions.end_other_sessions(s, user.account_id, user.session_pk)
    return Response(status_code=204)


class PasswordConfirmation(BaseModel):
    password: str = Field(max_length=4096)


@router.post(
    "/account/cancel",
    summary="Cancel the account: kept (and reactivatable) for the hold period, then deleted",
)
def cancel_account(body: PasswordConfirmation, user: CurrentUser, rt: RuntimeDep) -> AccountOut:
    with rt.db.write() as s:
        service.check_password(s, user.account_id, body.password)
        account = lifecycle.cancel(
            s,
            user.account_id,
            now=rt.clock.now_ms(),
            hold_ms=rt.settings.account_hold_days * DAY_MS,
        )
    return AccountOut.of(account)


@router.post("/account/reactivate", summary="Reactivate a cancelled account during its hold")
def reactivate_account(user: AnyUser, rt: RuntimeDep) -> AccountOut:
    with rt.db.write() as s:
        account = lifecycle.reactivate(s, user.account_id, now=rt.clock.now_ms())
    return AccountOut.of(account)


class AccountPatch(BaseModel):
    default_region: str | None = Field(None, min_length=2, max_length=2, examples=["US"])
    phone_numbers: list[str] | None = Field(None, max_length=20)
    message_retention_days: int | None = Field(
        None, description="Keep messages this many days; null keeps them forever."
    )


@router.patch("/account", summary="Change the account's settings")
def patch_account(body: AccountPatch, user: CurrentUser, rt: RuntimeDep) -> AccountOut:
    fields = body.model_fields_set
    kwargs: dict[str, Any] = {}
    if "default_region" in fields and body.default_region is not None:
        kwargs["default_region"] = body.default_region
    if "phone_numbers" in fields and body.phone_numbers is not None:
        kwargs["phone_numbers"] = body.phone_numbers
    if "message_retention_days" in fields:
        kwargs["message_retention_days"] = body.message_retention_days
    with rt.db.write() as s:
        account = service.update_settings(s, user.account_id, **kwargs)
    return AccountOut.of(account)


class ServiceSwitch(BaseModel):
    enabled: bool
    confirm: str | None = Field(
        None, description='To turn messages off: "delete-cloud-messages" (deletes the cloud copy).'
    )


class ServiceState(BaseModel):
    service: str
    enabled: bool


@router.put("/account/services/messages", summary="Turn the messages service on or off")
def switch_messages(
    body: ServiceSwitch, user: CurrentUser, rt: RuntimeDep, request: Request
) -> ServiceState:
    with rt.db.write() as s:
        enabled = housekeeping.switch(s, user.account_id, body.enabled, body.confirm)
    request.app.state.events.poke()
    return ServiceState(service="messages", enabled=enabled)
