from __future__ import annotations

from sqlalchemy import select

from strongroom.accounts import keys
from strongroom.accounts.models import AccountKey
from strongroom.runtime import ServerMeta, open_runtime
from tests.factories import make_user


def _store_some(rt, account_id, n=3):
    with rt.db.read() as s:
        vault = keys.vault_for(s, rt.store, rt.keyring, account_id)
    return {
        vault.put(b"blob %d of %d" % (i, account_id)).blob_id: b"blob %d of %d" % (i, account_id)
        for i in range(n)
    }


def _read_all(rt, account_id, blobs):
    with rt.db.read() as s:
        vault = keys.vault_for(s, rt.store, rt.keyring, account_id)
    return all(vault.read(b) == data for b, data in blobs.items())


def test_two_accounts_storing_the_same_bytes_get_different_ids_and_ciphertexts(runtime):
    a, b = make_user(runtime, "alice"), make_user(runtime, "bob")
    with runtime.db.read() as s:
        va = keys.vault_for(s, runtime.store, runtime.keyring, a)
        vb = keys.vault_for(s, runtime.store, runtime.keyring, b)
    ida, idb = va.put(b"same bytes").blob_id, vb.put(b"same bytes").blob_id
    assert ida != idb
    assert runtime.store.read(va.name_of(ida)) != runtime.store.read(vb.name_of(idb))
    assert va.read(ida) == vb.read(idb) == b"same bytes"


def test_rotating_the_master_key_keeps_every_blob_readable(runtime):
    accounts = {make_user(runtime, f"user{i}"): None for i in range(3)}
    stored = {a: _store_some(runtime, a) for a in accounts}
    old = runtime.keyring.current.key_id
    report = keys.rotate_master_key(runtime.db, runtime.keyring, batch=2)
    assert report.rewrapped == 3 and report.old_key_id == old != report.new_key_id
    assert not runtime.keyring.next_path.exists()
    assert runtime.settings.key_file.read_text().split()[1] != ""
    with runtime.db.read() as s:
        assert set(s.scalars(select(AccountKey.master_key_id))) == {report.new_key_id}
        assert s.get(ServerMeta, "master_key_id").value == report.new_key_id
    runtime.close()
    fresh = open_runtime(runtime.settings)  # a restart reads the new key file
    try:
        assert all(_read_all(fresh, a, blobs) for a, blobs in stored.items())
    finally:
        fresh.close()


def test_a_rotation_that_crashed_half_way_loses_nothing_and_resumes(runtime):
    ids = [make_user(runtime, f"user{i}") for i in range(4)]
    stored = {a: _store_some(runtime, a) for a in ids}
    incoming = runtime.keyring.begin_rotation()
    with runtime.db.write() as s:  # the crash: only two keys were rewrapped
        for row in s.scalars(select(AccountKey).limit(2)):
            data_key = runtime.keyring.get(row.master_key_id).unwrap(row.wrapped, row.namespace)
            row.wrapped = incoming.wrap(data_key, row.namespace)
            row.master_key_id = incoming.key_id
    runtime.close()
    restarted = open_runtime(runtime.settings)  # both key files are loaded
    try:
        assert all(_read_all(restarted, a, blobs) for a, blobs in stored.items())
        new_user = make_user(restarted, "late")  # created mid-rotation: under the new key
        with restarted.db.read() as s:
            assert s.get(AccountKey, new_user).master_key_id == incoming.key_id
        report = keys.rotate_master_key(restarted.db, restarted.keyring)
        assert report.new_key_id == incoming.key_id and report.rewrapped == 2
        assert all(_read_all(restarted, a, blobs) for a, blobs in stored.items())
    finally:
        restarted.close()
