"""Devices: register with the account's password, list, revoke."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from strongroom.accounts import devices, service, throttle
from strongroom.accounts.devices import DeviceView
from strongroom.accounts.errors import AccountOnHold
from strongroom.web.deps import CurrentUser, RuntimeDep, client_address

router = APIRouter(tags=["devices"])

Platform = Literal["android", "ios", "macos", "windows", "linux", "web"]


class DeviceRegistration(BaseModel):
    user: str = Field(max_length=200)
    password: str = Field(max_length=4096)
    name: str = Field(min_length=1, max_length=100)
    platform: Platform


class UploadSummaryOut(BaseModel):
    messages: int = Field(description="Messages in the batch.")
    new: int = Field(description="Messages the vault did not have yet.")
    duplicates: int
    rejected: int
    attachments: int


class DeviceOut(BaseModel):
    device_id: str
    name: str
    platform: str
    created_at: int
    last_seen_at: int | None
    last_upload_at: int | None = Field(
        None, description="When the device last finished an upload (its last backup)."
    )
    last_upload: UploadSummaryOut | None = Field(None, description="What that upload held.")
    uploaded_messages: int = Field(0, description="Messages this device added, over its life.")

    @classmethod
    def of(cls, d: DeviceView) -> DeviceOut:
        last = d.last_upload
        return cls(
            device_id=d.device_id,
            name=d.name,
            platform=d.platform,
            created_at=d.created_at,
            last_seen_at=d.last_seen_at,
            last_upload_at=d.last_upload_at,
            last_upload=UploadSummaryOut(**last.as_json()) if last else None,
            uploaded_messages=d.uploaded_messages,
        )


class DeviceCreated(DeviceOut):
    token: str = Field(description="The bearer token; shown only in this answer.")


class DeviceList(BaseModel):
    devices: list[DeviceOut]


def login_policy(rt: RuntimeDep) -> throttle.LoginPolicy:
    st = rt.settings
    return throttle.LoginPolicy(
        slow_after=st.login_slow_after,
        max_failures=st.login_max_failures,
        lockout_ms=st.login_lockout_seconds * 1000,
        delay_cap_s=st.login_delay_cap_seconds,
    )


@router.post("/devices", status_code=201, summary="Register a device and get its token")
def register(body: DeviceRegistration, request: Request, rt: RuntimeDep) -> DeviceCreated:
    account = service.verify_login(
        rt.db,
        body.user,
        body.password,
        address=client_address(request),
        policy=login_policy(rt),
        clock=rt.clock,
    )
    if account.status != "active":
        raise AccountOnHold("this account is cancelled; reactivate it before adding devices")
    with rt.db.write() as s:
        device, token = devices.register_device(
            s, account.id, name=body.name, platform=body.platform, now=rt.clock.now_ms()
        )
    return DeviceCreated(**DeviceOut.of(device).model_dump(), token=token)


@router.get("/devices", summary="The account's devices, most recently seen first")
def list_devices(user: CurrentUser, rt: RuntimeDep) -> DeviceList:
    with rt.db.read() as s:
        return DeviceList(
            devices=[DeviceOut.of(d) for d in devices.list_devices(s, user.account_id)]
        )


@router.delete("/devices/{device_id}", status_code=204, summary="Revoke a device's token")
def revoke(device_id: str, user: CurrentUser, rt: RuntimeDep) -> Response:
    with rt.db.write() as s:
        devices.revoke_device(s, user.account_id, device_id, rt.clock.now_ms())
    return Response(status_code=204)
