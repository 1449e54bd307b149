"""Builders shared by the tests: accounts, devices, logged-in browsers."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from strongroom.accounts import service
from strongroom.runtime import Runtime

PASSWORD = "correct horse battery"


def make_user(rt: Runtime, name: str = "alice", password: str = PASSWORD) -> int:
    """Create an account directly through the service; return its id."""
    with rt.db.write() as s:
        account = service.sign_up(s, rt, name, password)
    return account.id


@dataclass
class DeviceLogin:
    device_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register_device(
    http: httpx.Client,
    user: str = "alice",
    password: str = PASSWORD,
    name: str = "Pixel 8",
    platform: str = "android",
) -> DeviceLogin:
    r = http.post(
        "/api/v1/devices",
        json={"user": user, "password": password, "name": name, "platform": platform},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return DeviceLogin(body["device_id"], body["token"])


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(page: httpx.Response) -> str:
    """The CSRF token embedded in a page's form."""
    match = _CSRF.search(page.text)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def browser_login(http: httpx.Client, user: str = "alice", password: str = PASSWORD) -> str:
    """Log in through the web form like a browser; return the session's CSRF token."""
    token = form_token(http.get("/login"))
    r = http.post("/login", data={"user": user, "password": password, "csrf_token": token})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/dashboard"
    return form_token(http.get("/dashboard"))


_message_counter = iter(range(1, 10**9))


def message(
    body: str = "hello",
    *,
    sender: str | None = "+15550100001",
    participants: list[str] | None = None,
    direction: str = "in",
    date: int | None = None,
    read: bool = False,
    kind: str = "sms",
    parts: list[dict] | None = None,
    client_id: str | None = None,
    **extra,
) -> dict:
    """An upload item as a phone would send it."""
    n = next(_message_counter)
    return {
        "client_id": client_id or f"c{n}",
        "kind": kind,
        "direction": direction,
        "sender": sender if direction == "in" else None,
        "participants": participants if participants is not None else [sender or "+15550100001"],
        "date": date if date is not None else 1_700_000_000_000 + n * 1000,
        "date_sent": None,
        "read": read,
        "status": "received" if direction == "in" else "sent",
        "subject": None,
        "body": body,
        "parts": parts or [],
        **extra,
    }


def messages_client(server_url: str, user: str = "alice", name: str = "Pixel 8", *, enable=True):
    """A registered device's API client, with the messages service turned on."""
    from strongroom.client import Client

    client = Client.register(server_url, user, PASSWORD, name=name, platform="android")
    if enable:
        client.set_messages_service(True)
    return client


def tus_metadata(**values: str) -> str:
    import base64 as _b64

    return ",".join(
        f"{k} {_b64.b64encode(v.encode()).decode()}" if v else k for k, v in values.items()
    )


def tus_create(http: httpx.Client, length: int, headers: dict | None = None, **meta: str) -> str:
    """A tus upload created without bytes (creation); its address."""
    r = http.post(
        "/api/v1/uploads",
        headers={
            **(headers or {}),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(length),
            "Upload-Metadata": tus_metadata(**meta),
        },
    )
    assert r.status_code == 201, r.text
    return str(r.headers["location"])


def tus_post(http: httpx.Client, data: bytes, headers: dict | None = None, **meta: str):
    """A tus creation-with-upload request: the whole of ``data`` in one POST."""
    return http.post(
        "/api/v1/uploads",
        content=data,
        headers={
            **(headers or {}),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(data)),
            "Upload-Metadata": tus_metadata(**meta),
            "Content-Type": "application/offset+octet-stream",
        },
    )


def upload_bytes(
    http: httpx.Client, headers: dict, data: bytes, filename: str, folder: str = "", **meta: str
) -> dict:
    """Upload through tus in one request (creation-with-upload); return the stored file."""
    r = tus_post(http, data, headers, filename=filename, folder=folder, **meta)
    assert r.status_code == 201, r.text
    assert r.headers["upload-offset"] == str(len(data))
    file_id = r.headers["strongroom-file-id"]
    return http.get(f"/api/v1/files/{file_id}", headers=headers).json()


# --- the message vault, filled directly (for export tests) -----------------------------------


def upload_part(data: bytes, content_type: str, filename: str | None = None) -> dict:
    """A message part as a phone uploads it."""
    import base64

    return {
        "content_type": content_type,
        "filename": filename,
        "data_base64": base64.b64encode(data).decode(),
    }


def vault_user(rt: Runtime, name: str = "alice", phone_numbers: list[str] | None = None) -> int:
    """An account with the messages service on (and its own numbers, if given); its id."""
    from strongroom.accounts.models import Account
    from strongroom.messages import housekeeping

    account_id = make_user(rt, name)
    with rt.db.write() as s:
        housekeeping.switch(s, account_id, True, None)
        if phone_numbers:
            s.get(Account, account_id).phone_numbers = phone_numbers
    return account_id


def store_records(rt: Runtime, account_id: int, records: list, source: str = "sbr-xml") -> list:
    """Store records the way an import does (through the messages service); their outcomes."""
    from strongroom.accounts.keys import vault_for
    from strongroom.messages.ingest import Ingest

    with rt.db.read() as s:
        vault = vault_for(s, rt.store, rt.keyring, account_id)
    ingest = Ingest(rt.db, vault, rt.clock, account_id, source=source)
    outcomes = []
    for start in range(0, len(records), 500):
        outcomes += ingest.add([(None, r) for r in records[start : start + 500]])
    return outcomes


def store_call(
    rt: Runtime,
    account_id: int,
    number: str,
    date: int,
    *,
    duration_s: int = 60,
    type: str = "incoming",
    name: str | None = None,
    extra: dict | None = None,
) -> None:
    """A call in the vault (no importer stores calls yet: this writes the row itself)."""
    from sqlalchemy import select

    from strongroom.db import upsert
    from strongroom.messages.models import Call, Handle

    with rt.db.write() as s:
        upsert(
            s,
            Handle,
            {"account_id": account_id, "value": number, "kind": "phone"},
            key=["account_id", "value"],
            update=None,
        )
        handle_id = s.scalar(
            select(Handle.id).where(Handle.account_id == account_id, Handle.value == number)
        )
        s.add(
            Call(
                account_id=account_id,
                handle_id=handle_id,
                date=date,
                duration_s=duration_s,
                type=type,
                name=name,
                source="sbr-xml",
                extra=extra or {},
            )
        )
