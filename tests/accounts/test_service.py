from __future__ import annotations

import pytest

from strongroom.accounts import passwords, service, throttle
from strongroom.accounts.errors import BadCredentials, BadUsername, UsernameTaken, WeakPassword
from strongroom.errors import RateLimited
from tests.factories import PASSWORD, make_user


def test_create_account_normalises_user_id_and_hashes_with_argon2id(runtime):
    make_user(runtime, "Alice.Smith")
    with runtime.db.read() as s:
        account = service.account_by_name(s, "alice.smith")
        assert account.username == "alice.smith"
        assert account.password_hash.startswith("$argon2id$")
        # OWASP minimum: 19 MiB, 2 iterations, 1 lane
        assert "m=19456,t=2,p=1" in account.password_hash
        assert account.quota_bytes == 50 * 1000**3
        assert account.status == "active"


@pytest.mark.parametrize("name", ["ab", "-alice", "alice!", "a" * 65, "al ice", "../x", ""])
def test_bad_user_ids_are_refused(runtime, name):
    with pytest.raises(BadUsername), runtime.db.write() as s:
        service.create_account(
            s,
            name,
            PASSWORD,
            keyring=runtime.keyring,
            quota_bytes=1,
            default_region="US",
            now=0,
        )


@pytest.mark.parametrize("password", ["short", " " * 12, "x" * 1025])
def test_weak_passwords_are_refused(runtime, password):
    with pytest.raises(WeakPassword), runtime.db.write() as s:
        service.create_account(
            s,
            "bob",
            password,
            keyring=runtime.keyring,
            quota_bytes=1,
            default_region="US",
            now=0,
        )


def test_user_id_taken_case_insensitively(runtime):
    make_user(runtime, "carol")
    with pytest.raises(UsernameTaken):
        make_user(runtime, "CAROL")


def test_verify_login_accepts_right_password_and_refuses_wrong(runtime):
    make_user(runtime)
    policy = throttle.LoginPolicy()
    ok = service.verify_login(
        runtime.db, "alice", PASSWORD, address="10.0.0.1", policy=policy, clock=runtime.clock
    )
    assert ok.username == "alice"
    with pytest.raises(BadCredentials):
        service.verify_login(
            runtime.db,
            "alice",
            "nope nope",
            address="10.0.0.1",
            policy=policy,
            clock=runtime.clock,
            sleep=lambda s: None,
        )
    with pytest.raises(BadCredentials):
        service.verify_login(
            runtime.db,
            "nobody",
            PASSWORD,
            address="10.0.0.1",
            policy=policy,
            clock=runtime.clock,
            sleep=lambda s: None,
        )


def test_failed_logins_are_slowed_then_refused_until_the_lockout_ends(runtime, clock):
    make_user(runtime)
    policy = throttle.LoginPolicy(slow_after=2, max_failures=4, lockout_ms=60_000, delay_cap_s=5)
    delays: list[float] = []
    for _ in range(4):
        with pytest.raises(BadCredentials):
            service.verify_login(
                runtime.db,
                "alice",
                "wrong password",
                address="10.0.0.9",
                policy=policy,
                clock=clock,
                sleep=delays.append,
            )
    assert len(delays) == 2 and delays[0] < delays[1]  # slowed after the second failure
    with pytest.raises(RateLimited) as refused:
        service.verify_login(
            runtime.db, "alice", PASSWORD, address="10.0.0.10", policy=policy, clock=clock
        )
    assert 0 < refused.value.retry_after <= 60
    clock.advance(seconds=61)
    ok = service.verify_login(
        runtime.db, "alice", PASSWORD, address="10.0.0.10", policy=policy, clock=clock
    )
    assert ok.username == "alice"


def test_change_password_needs_the_old_one(runtime):
    account_id = make_user(runtime)
    with pytest.raises(BadCredentials), runtime.db.write() as s:
        service.change_password(s, account_id, "not it at all", "new password 1", 1)
    with runtime.db.write() as s:
        service.change_password(s, account_id, PASSWORD, "new password 1", 1)
    with runtime.db.read() as s:
        assert passwords.verify_password(
            service.get_account(s, account_id).password_hash, "new password 1"
        )


def test_verify_password_without_hash_is_false():
    assert passwords.verify_password(None, "anything") is False
    assert passwords.verify_password("not a hash", "anything") is False
