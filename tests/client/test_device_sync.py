"""A stateful test of message sync: simulated phones against a real server on loopback.

Three devices, each with its own message store (``strongroom.client.Device``), receive messages,
mark them read or unread, delete them, go offline and come back, get reinstalled, copy messages
between them (a phone restored from a local backup), while the account changes its retention.
Whenever everyone has synced, every device and the server must hold the same messages with the
same read state, with no duplicates, no resurrected deletions, and nothing lost that was not
deleted or expired.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from strongroom.client import Client, Device
from strongroom.jobs import make_worker
from tests.factories import PASSWORD, make_user

DAY = 86_400_000
_accounts = itertools.count(1)


def _server_view(client: Client) -> dict[str, bool]:
    ids, _ = client.all_ids()
    return {m["body"]: m["read"] for m in client.get(ids)}


def _device_view(device: Device) -> dict[str, bool]:
    return {m.data["body"]: m.read for m in device.messages.values() if not m.expired}


class SyncMachine(RuleBasedStateMachine):
    runtime = None
    server_url = ""

    @initialize()
    def setup(self):
        self.user = f"user{next(_accounts)}"
        make_user(self.runtime, self.user)
        self.clients: list[Client] = []
        self.devices = [self._new_device(i) for i in range(3)]
        self.devices[0].client.set_messages_service(True)
        self.online = [True, True, True]
        self.bodies = itertools.count()
        self.received: dict[str, int] = {}  # body -> date
        self.deleted: set[str] = set()  # deletions that reached the server
        self.pending: list[set[str]] = [set(), set(), set()]  # deletions not yet synced
        self.maybe_gone: set[str] = set()  # deletions lost with a reinstall
        self.may_expire: set[str] = set()
        self.retention_days: int | None = None

    def _new_device(self, i: int) -> Device:
        client = Client.register(
            self.server_url, self.user, PASSWORD, name=f"phone {i}", platform="android"
        )
        self.clients.append(client)
        return Device(client, name=f"{self.user}-d{i}")

    def teardown(self):
        for client in getattr(self, "clients", []):
            client.close()

    def _now(self) -> int:
        return self.runtime.clock.now_ms()

    @rule(i=st.integers(0, 2), age_days=st.integers(0, 60), incoming=st.booleans())
    def receive(self, i, age_days, incoming):
        body = f"message {next(self.bodies)}"
        date = self._now() - age_days * DAY - 1000
        self.received[body] = date
        if self.retention_days is not None and date < self._now() - self.retention_days * DAY:
            self.may_expire.add(body)  # the vault refuses it; the phone keeps it
        self.devices[i].receive(
            {
                "kind": "sms",
                "direction": "in" if incoming else "out",
                "sender": "+15550100001" if incoming else None,
                "participants": ["+15550100001"],
                "date": date,
                "status": "received" if incoming else "sent",
                "body": body,
            }
        )

    def _pick(self, i: int, n: int) -> str | None:
        keys = sorted(self.devices[i].messages)
        return keys[n % len(keys)] if keys else None

    @rule(i=st.integers(0, 2), n=st.integers(0, 50), read=st.booleans())
    def mark(self, i, n, read):
        cid = self._pick(i, n)
        if cid is not None:
            self.devices[i].mark_read(cid, read)

    @rule(i=st.integers(0, 2), n=st.integers(0, 50))
    def delete(self, i, n):
        cid = self._pick(i, n)
        if cid is not None:
            message = self.devices[i].messages[cid]
            if not message.expired:
                self.pending[i].add(message.data["body"])
            self.devices[i].delete(cid)

    @rule(src=st.integers(0, 2), dst=st.integers(0, 2), n=st.integers(0, 50))
    def copy(self, src, dst, n):
        """The same message shows up on another phone (restored from a local backup)."""
        cid = self._pick(src, n)
        if cid is not None and src != dst:
            m = self.devices[src].messages[cid]
            known = {x.data["body"] for x in self.devices[dst].messages.values()}
            if m.data["body"] not in known and m.data["body"] not in self.deleted:
                self.devices[dst].receive(dict(m.data), read=m.read)

    @rule(i=st.integers(0, 2))
    def toggle_online(self, i):
        self.online[i] = not self.online[i]

    @rule(i=st.integers(0, 2))
    def sync(self, i):
        if self.online[i]:
            self.devices[i].sync()
            self.deleted |= self.pending[i]
            self.pending[i] = set()

    @rule(i=st.integers(0, 2))
    def reinstall(self, i):
        """The app is reinstalled: the phone keeps its messages, the app's sync state is lost."""
        old = self.devices[i]
        fresh = self._new_device(i)
        for m in old.messages.values():
            fresh.receive(dict(m.data), read=m.read)
        self.maybe_gone |= self.pending[i]
        self.pending[i] = set()
        self.devices[i] = fresh

    @rule(days=st.sampled_from([None, 30]))
    def retention(self, days):
        self.devices[0].client.update_account(message_retention_days=days)
        self.retention_days = days
        if days is not None:
            cutoff = self._now() - days * DAY
            self.may_expire |= {b for b, d in self.received.items() if d < cutoff}
        make_worker(self.runtime).run_until_idle()

    @rule()
    def much_later(self):
        """Half a year passes: old sync history is compacted, stale devices must resync."""
        self.runtime.clock.advance(days=200)
        if self.retention_days is not None:
            self.may_expire |= set(self.received)
        make_worker(self.runtime).run_until_idle()

    @precondition(lambda self: hasattr(self, "devices"))
    @invariant()
    def everyone_agrees_after_syncing(self):
        if not all(self.online):
            return
        for _ in range(2):
            for i in range(3):
                self.sync(i)
        server = _server_view(self.devices[0].client)
        for device in self.devices:
            assert _device_view(device) == server
        ids, _ = self.devices[0].client.all_ids()
        assert len(ids) == len(server), "duplicates in the vault"
        assert not (self.deleted & set(server)), "a deleted message came back"
        lost = set(self.received) - set(server) - self.deleted - self.maybe_gone - self.may_expire
        assert not lost, f"lost: {sorted(lost)[:5]}"


@pytest.mark.slow
def test_devices_converge(runtime, server):
    SyncMachine.runtime = runtime
    SyncMachine.server_url = server.url
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )


def test_a_copy_of_a_message_awaiting_expiry_is_not_stored_twice(runtime, server):
    """Found by the machine above: a message past the retention period but not yet expired by
    the job was refused as "expired" when a reinstalled phone sent it again, so the phone kept
    a phone-only copy beside the vault's, and the next reinstall stored that copy as a second
    message."""
    SyncMachine.runtime = runtime
    SyncMachine.server_url = server.url
    machine = SyncMachine()
    machine.setup()
    try:
        for _ in range(20):  # the clock far from the accounts' creation
            machine.much_later()
        machine.receive(i=0, age_days=60, incoming=False)
        machine.everyone_agrees_after_syncing()
        machine.retention(days=30)
        machine.reinstall(i=1)
        machine.everyone_agrees_after_syncing()
        machine.retention(days=None)
        machine.reinstall(i=1)
        machine.everyone_agrees_after_syncing()
    finally:
        machine.teardown()
