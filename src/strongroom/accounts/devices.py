"""Devices: each phone or computer gets its own token, listed and revocable by its owner."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from strongroom.accounts.models import Device
from strongroom.accounts.tokens import new_public_id, new_token
from strongroom.errors import InvalidInput, NotFound
from strongroom.types import Millis

PLATFORMS = ("android", "ios", "macos", "windows", "linux", "web")
TOKEN_PREFIX = "srd_"
SEEN_RESOLUTION_MS = 60_000
"""``last_seen_at`` is rewritten at most this often, keeping hot read paths write-free."""


@dataclass(frozen=True)
class UploadSummary:
    """What one upload batch from a device held, by outcome."""

    messages: int
    new: int
    duplicates: int
    rejected: int
    attachments: int

    def as_json(self) -> dict[str, int]:
        return {
            "messages": self.messages,
            "new": self.new,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "attachments": self.attachments,
        }

    @classmethod
    def of_json(cls, data: dict[str, int] | None) -> UploadSummary | None:
        if not data:
            return None
        return cls(**{k: int(data.get(k, 0)) for k in _SUMMARY_FIELDS})


_SUMMARY_FIELDS = ("messages", "new", "duplicates", "rejected", "attachments")


@dataclass(frozen=True)
class DeviceView:
    device_id: str
    name: str
    platform: str
    created_at: Millis
    last_seen_at: Millis | None
    last_upload_at: Millis | None = None
    last_upload: UploadSummary | None = None
    uploaded_messages: int = 0

    @classmethod
    def of(cls, d: Device) -> DeviceView:
        return cls(
            d.public_id,
            d.name,
            d.platform,
            d.created_at,
            d.last_seen_at,
            d.last_upload_at,
            UploadSummary.of_json(d.last_upload),
            d.uploaded_messages or 0,
        )


def register_device(
    session: Session, account_id: int, *, name: str, platform: str, now: Millis
) -> tuple[DeviceView, str]:
    """Create a device; return it and its bearer token, which is never shown again.

    Raises InvalidInput for an unknown platform or an empty name.
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a device name has 1 to 100 characters")
    if platform not in PLATFORMS:
        raise InvalidInput(f"platform must be one of {', '.join(PLATFORMS)}")
    token, token_hash = new_token(TOKEN_PREFIX)
    device = Device(
        public_id=new_public_id(),
        account_id=account_id,
        name=name,
        platform=platform,
        token_hash=token_hash,
        created_at=now,
        last_seen_at=now,
        details={},
    )
    session.add(device)
    session.flush()
    return DeviceView.of(device), token


def list_devices(session: Session, account_id: int) -> list[DeviceView]:
    """The account's devices that are not revoked, most recently seen first."""
    rows = session.scalars(
        select(Device)
        .where(Device.account_id == account_id, Device.revoked_at.is_(None))
        .order_by(Device.last_seen_at.desc(), Device.id)
    )
    return [DeviceView.of(d) for d in rows]


def revoke_device(session: Session, account_id: int, device_id: str, now: Millis) -> None:
    """Revoke a device's token at once.  Raises NotFound unless it is one of the account's."""
    result = session.execute(
        update(Device)
        .where(
            Device.public_id == device_id,
            Device.account_id == account_id,
            Device.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("no such device")


def touch_device(session: Session, device_pk: int, now: Millis) -> None:
    session.execute(update(Device).where(Device.id == device_pk).values(last_seen_at=now))


def record_upload(session: Session, device_pk: int, summary: UploadSummary, now: Millis) -> None:
    """Note a finished upload batch on the device (one UPDATE), for the backup health view."""
    session.execute(
        update(Device)
        .where(Device.id == device_pk)
        .values(
            last_upload_at=now,
            last_seen_at=now,
            last_upload=summary.as_json(),
            uploaded_messages=Device.uploaded_messages + summary.new,
        )
    )
