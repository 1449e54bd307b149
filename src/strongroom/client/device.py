"""A device's side of message sync: its own message store, mirrored with the vault.

This is the algorithm a phone app runs, kept here so the desktop agent and the tests share it:

1. push local deletions and read/unread changes (``/messages/set``);
2. upload messages the vault has not acknowledged (``/messages/upload``); a ``duplicate`` answer
   links the local copy to the stored one, ``rejected: deleted`` removes it (the account deleted
   it elsewhere), ``rejected: expired`` keeps it here but no longer in sync;
3. pull changes since the last state (``/messages/changes``); when the server cannot calculate
   them (410), resync in full: list every id, adopt what is missing, re-upload what the vault
   no longer knows (which step 2 then sorts out).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from strongroom.client.api import ApiError, Client

_UPLOAD_BATCH = 500
_counter = itertools.count(1)


@dataclass
class LocalMessage:
    client_id: str
    data: dict[str, Any]
    read: bool
    server_id: str | None = None
    dirty_read: bool = False
    expired: bool = False


@dataclass
class SyncReport:
    uploaded: int = 0
    duplicates: int = 0
    pulled: int = 0
    removed: int = 0
    resynced: bool = False


@dataclass
class Device:
    """One device's message store and its sync with the vault."""

    client: Client
    name: str = "device"
    messages: dict[str, LocalMessage] = field(default_factory=dict)
    state: str | None = None
    pending_deletes: set[str] = field(default_factory=set)
    unsynced_deletes: list[LocalMessage] = field(default_factory=list)
    """Deleted here before the vault acknowledged them: uploaded, then deleted, at the next sync,
    so that a copy on another device is deleted too."""
    service_on: bool = True

    # -- what happens on the phone ---------------------------------------------------------

    def receive(self, data: dict[str, Any], *, read: bool | None = None) -> str:
        """A message arrives on (or is sent from) this device; return its local id."""
        client_id = f"{self.name}-{next(_counter)}"
        is_read = read if read is not None else data.get("direction") == "out"
        self.messages[client_id] = LocalMessage(client_id, dict(data), is_read)
        return client_id

    def mark_read(self, client_id: str, read: bool) -> None:
        message = self.messages[client_id]
        if message.read != read:
            message.read = read
            message.dirty_read = message.server_id is not None

    def delete(self, client_id: str) -> None:
        message = self.messages.pop(client_id)
        if message.expired:
            return
        if message.server_id is not None:
            self.pending_deletes.add(message.server_id)
        else:
            self.unsynced_deletes.append(message)

    def by_server_id(self) -> dict[str, LocalMessage]:
        return {m.server_id: m for m in self.messages.values() if m.server_id and not m.expired}

    # -- sync ------------------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Push, upload, pull.  Raises ApiError for anything but a resync request."""
        report = SyncReport()
        try:
            self._push()
            self._upload(report)
            self._pull(report)
        except ApiError as e:
            if e.code == "messages-service-off":
                self.service_on = False
                self.state = None
                return report
            if e.code != "cannot-calculate-changes":
                raise
            self.resync(report)
        self.service_on = True
        return report

    def _push(self) -> None:
        if self.unsynced_deletes:
            items = [
                {**m.data, "client_id": m.client_id, "read": m.read} for m in self.unsynced_deletes
            ]
            for start in range(0, len(items), _UPLOAD_BATCH):
                answer = self.client.upload(items[start : start + _UPLOAD_BATCH])
                self.pending_deletes.update(
                    r["id"] for r in answer["results"] if r["status"] in ("created", "duplicate")
                )
            self.unsynced_deletes.clear()
        update = {
            m.server_id: {"read": m.read}
            for m in self.messages.values()
            if m.dirty_read and m.server_id and not m.expired
        }
        if update or self.pending_deletes:
            self.client.set(update=update, destroy=sorted(self.pending_deletes))
        for m in self.messages.values():
            m.dirty_read = False
        self.pending_deletes.clear()

    def _upload(self, report: SyncReport) -> None:
        waiting = [m for m in self.messages.values() if m.server_id is None and not m.expired]
        linked: list[LocalMessage] = []
        for start in range(0, len(waiting), _UPLOAD_BATCH):
            batch = waiting[start : start + _UPLOAD_BATCH]
            items = [{**m.data, "client_id": m.client_id, "read": m.read} for m in batch]
            answer = self.client.upload(items)
            for m, result in zip(batch, answer["results"], strict=True):
                self._apply_upload(m, result, report, linked)
        if linked:  # adopt the vault's read state for copies it already had
            for stored in self.client.get([m.server_id for m in linked if m.server_id]):
                self._adopt(stored)

    def _apply_upload(
        self,
        m: LocalMessage,
        result: dict[str, Any],
        report: SyncReport,
        linked: list[LocalMessage],
    ) -> None:
        status = result["status"]
        if status in ("created", "duplicate"):
            twin = self.by_server_id().get(result["id"])
            if twin is not None and twin is not m:  # two local copies of one message
                del self.messages[m.client_id]
                return
            m.server_id = result["id"]
            if status == "created":
                report.uploaded += 1
            else:
                report.duplicates += 1
                linked.append(m)
            return
        code = (result.get("problem") or {}).get("code")
        if code == "deleted":
            del self.messages[m.client_id]
            report.removed += 1
        elif code == "expired":
            m.expired = True

    def _adopt(self, stored: dict[str, Any]) -> None:
        local = self.by_server_id().get(stored["id"])
        if local is None:
            client_id = f"{self.name}-{next(_counter)}"
            data = {
                k: stored[k]
                for k in (
                    "kind",
                    "direction",
                    "sender",
                    "participants",
                    "date",
                    "date_sent",
                    "status",
                    "subject",
                    "body",
                )
            }
            self.messages[client_id] = LocalMessage(
                client_id, data, stored["read"], server_id=stored["id"]
            )
        elif not local.dirty_read:
            local.read = stored["read"]

    def _pull(self, report: SyncReport) -> None:
        while True:
            changes = self.client.changes(self.state)
            wanted = changes["created"] + changes["updated"]
            for stored in self.client.get(wanted) if wanted else []:
                self._adopt(stored)
                report.pulled += 1
            local = self.by_server_id()
            for sid in changes["destroyed"]:
                if sid in local:
                    del self.messages[local[sid].client_id]
                    report.removed += 1
            for sid in changes["expired"]:
                if sid in local:
                    local[sid].expired = True
            self.state = changes["new_state"]
            if not changes["has_more"]:
                return

    def resync(self, report: SyncReport | None = None) -> SyncReport:
        """Start over: compare every id with the vault, then sync normally."""
        report = report or SyncReport()
        report.resynced = True
        ids, state = self.client.all_ids()
        known = set(ids)
        for m in self.messages.values():
            if m.server_id is not None and m.server_id not in known and not m.expired:
                m.server_id = None  # gone from the vault: the upload step finds out why
        local = self.by_server_id()
        missing = [i for i in ids if i not in local]
        for stored in self.client.get(list(local)) if local else []:
            self._adopt(stored)
        for stored in self.client.get(missing) if missing else []:
            self._adopt(stored)
            report.pulled += 1
        self.state = state
        self._upload(report)
        self._pull(report)
        return report
