from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from strongroom.accounts import changes, keys, lifecycle, sessions, usage
from strongroom.db import Base
from strongroom.errors import Gone
from strongroom.jobs import make_worker
from tests.factories import PASSWORD, make_user, register_device


def _fill_account(rt, account_id):
    """Give an account rows in several tables and blobs in the store."""
    with rt.db.write() as s:
        vault = keys.vault_for(s, rt.store, rt.keyring, account_id)
        sessions.start_session(s, account_id, user_agent="t", now=1, lifetime_ms=10**12)
        changes.record(s, account_id, "message", [(1, changes.CREATED)], now=1)
        usage.add(s, account_id, "photos", 1234)
    names = [vault.name_of(vault.put(b"content %d" % i).blob_id) for i in range(3)]
    return names


def _rows_of(rt, account_id) -> dict[str, int]:
    counts = {}
    with rt.db.read() as s:
        for table in Base.metadata.sorted_tables:
            column = table.c.get("account_id") if table.name != "accounts" else table.c.id
            if column is not None:
                counts[table.name] = s.scalar(
                    select(func.count()).select_from(table).where(column == account_id)
                )
    return counts


def test_cancel_holds_the_account_and_reactivation_restores_it(runtime, http):
    make_user(runtime)
    phone = register_device(http)
    r = http.post("/api/v1/account/cancel", json={"password": "wrong!!!!"}, headers=phone.headers)
    assert r.status_code == 401
    r = http.post("/api/v1/account/cancel", json={"password": PASSWORD}, headers=phone.headers)
    assert r.status_code == 200 and r.json()["status"] == "held"
    held_until = r.json()["held_until"]
    assert held_until == runtime.clock.now_ms() + 180 * 86_400_000

    refused = http.get("/api/v1/devices", headers=phone.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "account-on-hold"
    r = http.post(
        "/api/v1/devices",
        json={"user": "alice", "password": PASSWORD, "name": "new", "platform": "ios"},
    )
    assert r.status_code == 403 and r.json()["code"] == "account-on-hold"

    r = http.post("/api/v1/account/reactivate", headers=phone.headers)
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert http.get("/api/v1/devices", headers=phone.headers).status_code == 200


def test_logging_in_during_the_hold_offers_reactivation(runtime, server):
    account_id = make_user(runtime)
    with runtime.db.write() as s:
        lifecycle.cancel(s, account_id, now=runtime.clock.now_ms(), hold_ms=10**9)
    with httpx.Client(base_url=server.url) as browser:
        from tests.factories import form_token

        page = browser.get("/login")
        r = browser.post(
            "/login",
            data={"user": "alice", "password": PASSWORD, "csrf_token": form_token(page)},
        )
        assert r.headers["location"] == "/account/reactivate"
        page = browser.get("/account/reactivate")
        assert "Reactivate my account" in page.text
        r = browser.post("/account/reactivate", data={"csrf_token": form_token(page)})
        assert r.status_code == 303
        assert "Hello, alice" in browser.get("/dashboard").text


def test_purge_after_the_hold_leaves_no_row_or_blob_of_the_account(runtime, clock):
    alice, bob = make_user(runtime, "alice"), make_user(runtime, "bob")
    alice_blobs = _fill_account(runtime, alice)
    bob_blobs = _fill_account(runtime, bob)
    filled = {"accounts", "account_keys", "web_sessions", "changes", "account_usage"}
    assert all(_rows_of(runtime, alice)[t] for t in filled)
    with runtime.db.write() as s:
        lifecycle.cancel(s, alice, now=clock.now_ms(), hold_ms=180 * 86_400_000)
    worker = make_worker(runtime)

    clock.advance(days=179)
    worker.run_until_idle()
    assert _rows_of(runtime, alice)["accounts"] == 1
    assert all(runtime.store.exists(n) for n in alice_blobs)

    clock.advance(days=2)
    with runtime.db.write() as s, pytest.raises(Gone):
        lifecycle.reactivate(s, alice, now=clock.now_ms())
    clock.advance(seconds=3601)  # the purge runs hourly
    worker.run_until_idle()
    left = {t: n for t, n in _rows_of(runtime, alice).items() if n}
    assert left == {}
    assert not any(runtime.store.exists(n) for n in alice_blobs)
    assert list(runtime.store.list(alice_blobs[0].split("/")[0] + "/")) == []
    # the other account is untouched
    assert all(runtime.store.exists(n) for n in bob_blobs)
    assert all(_rows_of(runtime, bob)[t] for t in filled - {"changes"})  # compacted: 181 days


def test_a_purge_interrupted_half_way_finishes_on_the_next_run(runtime, clock):
    alice = make_user(runtime)
    blobs = _fill_account(runtime, alice)
    with runtime.db.write() as s:
        lifecycle.cancel(s, alice, now=clock.now_ms(), hold_ms=1000)
    clock.advance(seconds=2)
    with runtime.db.write() as s:  # the job died right after marking the account
        assert lifecycle.begin_purge(s, alice, clock.now_ms()) is not None
    runtime.store.delete(blobs[0])  # ...and deleting one blob
    make_worker(runtime).run_until_idle()
    assert not any(_rows_of(runtime, alice).values())
    assert not any(runtime.store.exists(n) for n in blobs)
