"""The sync semantics devices rely on: deletions stick, read state travels, retention, opt-in."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from strongroom.client import ApiError, Device
from strongroom.content.models import Chunk
from strongroom.jobs import make_worker
from strongroom.messages.models import Message
from tests.factories import make_user, message


def _ids(answer):
    return [r["id"] for r in answer["results"]]


def test_a_deletion_on_one_device_reaches_the_others_and_sticks(runtime, connect):
    make_user(runtime)
    a, b = connect(name="A"), connect(name="B")
    [keep, doomed] = _ids(a.upload([message("keep"), message("doomed")]))
    state = b.changes(None)["new_state"]
    a.set(destroy=[doomed])
    changed = b.changes(state)
    assert changed["destroyed"] == [doomed] and changed["created"] == []
    # a stale device uploading the deleted message does not bring it back
    stale = connect(name="stale")
    [result] = stale.upload([message("doomed", date=a.get([keep])[0]["date"] + 1000)])["results"]
    assert result["status"] == "rejected" and result["problem"]["code"] == "deleted"
    assert result["id"] == doomed
    assert b.get([doomed]) == []


def test_read_state_travels_between_devices_and_to_a_new_phone(runtime, connect):
    make_user(runtime)
    a, b = connect(name="A"), connect(name="B")
    ids = _ids(a.upload([message("one", read=True), message("two"), message("three")]))
    state = b.changes(None)["new_state"]
    b.set(update={ids[1]: {"read": True}, ids[0]: {"read": False}})
    changed = a.changes(state)
    assert sorted(changed["updated"]) == sorted([ids[0], ids[1]])
    reads = {m["id"]: m["read"] for m in a.get(ids)}
    assert reads == {ids[0]: False, ids[1]: True, ids[2]: False}
    # a new phone restored from the vault gets the read state, not "all unread"
    new_phone = Device(connect(name="new phone"), name="new")
    new_phone.sync()
    assert sorted(m.read for m in new_phone.messages.values()) == [False, False, True]


def test_first_sync_of_a_phone_with_history_merges_both_ways(runtime, connect):
    make_user(runtime)
    old = Device(connect(name="old"), name="old")
    for text in ("shared 1", "shared 2", "only old"):
        old.receive(message(text, date=1_700_000_000_000 + len(text)))
    old.sync()
    cid = next(c for c, m in old.messages.items() if m.data["body"] == "only old")
    old.delete(cid)  # deleted on the old phone...
    old.sync()
    new = Device(connect(name="new"), name="new")
    for text in ("shared 1", "shared 2", "only new", "only old"):  # ...still on the new one
        new.receive(message(text, date=1_700_000_000_000 + len(text)), read=True)
    report = new.sync()
    bodies = sorted(m.data["body"] for m in new.messages.values())
    assert bodies == ["only new", "shared 1", "shared 2"]  # nothing deleted came back
    assert report.duplicates == 2 and report.uploaded == 1 and report.removed == 1
    old.sync()
    assert sorted(m.data["body"] for m in old.messages.values()) == bodies


def test_a_stale_state_answers_410_and_the_device_resyncs(runtime, connect, clock):
    make_user(runtime)
    a = connect(name="A")
    with pytest.raises(ApiError) as gone:
        a.changes("not-a-state")
    assert gone.value.status == 410 and gone.value.code == "cannot-calculate-changes"
    device = Device(connect(name="B"), name="B")
    early_message = message("early")
    device.receive(early_message)
    device.sync()
    [early] = _ids(a.upload([early_message]))  # the same message, from another device
    a.set(destroy=[early])
    a.upload([message("late")])
    clock.advance(days=200)
    make_worker(runtime).run_until_idle()  # compacts history older than 180 days
    with pytest.raises(ApiError) as stale:
        a.changes(device.state)
    assert stale.value.code == "cannot-calculate-changes"
    report = device.sync()
    assert report.resynced
    assert sorted(m.data["body"] for m in device.messages.values()) == ["late"]


def test_retention_expires_from_the_vault_only(runtime, connect, clock):
    make_user(runtime)
    a = connect(name="A")
    now = clock.now_ms()
    device = Device(a, name="A")
    device.receive(message("old", date=now - 40 * 86_400_000))
    device.receive(message("new", date=now - 5 * 86_400_000))
    device.sync()
    a.update_account(message_retention_days=30)
    make_worker(runtime).run_until_idle()
    changed = a.changes(device.state)
    assert len(changed["expired"]) == 1 and changed["destroyed"] == []
    device.sync()
    kept = {m.data["body"]: m.expired for m in device.messages.values()}
    assert kept == {"old": True, "new": False}  # the phone keeps its own copy
    [again] = a.upload([message("old", date=now - 40 * 86_400_000)])["results"]
    assert again["status"] == "rejected" and again["problem"]["code"] == "expired"
    with runtime.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1
    a.update_account(message_retention_days=None)
    assert a.account()["message_retention_days"] is None


def test_turning_messages_off_deletes_the_cloud_copy_after_confirmation(runtime, connect, clock):
    import base64

    make_user(runtime)
    a = connect(name="A")
    device = Device(a, name="A")
    device.receive(
        message(
            "with picture",
            kind="mms",
            parts=[
                {
                    "content_type": "image/png",
                    "filename": "p.png",
                    "data_base64": base64.b64encode(b"\x89PNG picture").decode(),
                }
            ],
        )
    )
    device.sync()
    with pytest.raises(ApiError) as unconfirmed:
        a.set_messages_service(False)
    assert unconfirmed.value.code == "confirmation-needed"
    assert a.set_messages_service(False, confirm="delete-cloud-messages") is False
    with runtime.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0
    with pytest.raises(ApiError) as off:
        a.changes(device.state)
    assert off.value.code == "messages-service-off"
    device.sync()
    assert not device.service_on and len(device.messages) == 1  # the phone keeps its own
    clock.advance(days=2.1)  # past the reclaim grace period
    make_worker(runtime).run_until_idle()
    with runtime.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Chunk)) == 0
    assert [i for i in runtime.store.list() if "/" in i.name] == []
    # on again: the device starts afresh and its messages go back up
    a.set_messages_service(True)
    device.sync()
    assert device.service_on and len(a.all_ids()[0]) == 1
