from __future__ import annotations

from tests.factories import PASSWORD, make_user


def _login(http, user, password):
    return http.post(
        "/api/v1/devices",
        json={"user": user, "password": password, "name": "x", "platform": "linux"},
    )


def test_repeated_failed_logins_are_refused_for_a_while(runtime, http, clock):
    make_user(runtime)
    make_user(runtime, "bob")
    limit = runtime.settings.login_max_failures
    for _ in range(limit):
        assert _login(http, "alice", "wrong guess").status_code == 401
    locked = _login(http, "alice", PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "rate-limited"
    assert int(locked.headers["retry-after"]) > 0
    # the address is locked too: guessing many user IDs from one place does not help
    assert _login(http, "bob", PASSWORD).status_code == 429
    clock.advance(seconds=runtime.settings.login_lockout_seconds + 1)
    assert _login(http, "alice", PASSWORD).status_code == 201
