from __future__ import annotations

from tests.factories import PASSWORD, make_user, register_device


def test_register_use_and_revoke_a_device_over_http(runtime, http):
    make_user(runtime)
    phone = register_device(http, name="Pixel 8", platform="android")
    laptop = register_device(http, name="ThinkPad", platform="linux")
    assert phone.token.startswith("srd_") and phone.token != laptop.token

    listed = http.get("/api/v1/devices", headers=phone.headers)
    assert listed.status_code == 200
    names = {d["name"]: d for d in listed.json()["devices"]}
    assert set(names) == {"Pixel 8", "ThinkPad"}
    assert names["Pixel 8"]["last_seen_at"] is not None
    assert "token" not in names["Pixel 8"]

    gone = http.delete(f"/api/v1/devices/{laptop.device_id}", headers=phone.headers)
    assert gone.status_code == 204
    refused = http.get("/api/v1/devices", headers=laptop.headers)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "not-authenticated"
    assert [
        d["name"] for d in http.get("/api/v1/devices", headers=phone.headers).json()["devices"]
    ] == ["Pixel 8"]


def test_only_a_hash_of_the_token_is_stored(runtime, http):
    make_user(runtime)
    phone = register_device(http)
    with runtime.db.read() as s:
        from strongroom.accounts.models import Device

        stored = s.query(Device).one()
        assert phone.token.encode() not in stored.token_hash
        assert len(stored.token_hash) == 32


def test_registration_with_a_wrong_password_or_platform_is_refused(runtime, http):
    make_user(runtime)
    r = http.post(
        "/api/v1/devices",
        json={"user": "alice", "password": "wrong one!", "name": "x", "platform": "android"},
    )
    assert r.status_code == 401 and r.json()["code"] == "bad-credentials"
    r = http.post(
        "/api/v1/devices",
        json={"user": "alice", "password": PASSWORD, "name": "x", "platform": "symbian"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "platform"


def test_no_token_or_a_garbage_token_is_401(runtime, http):
    assert http.get("/api/v1/devices").status_code == 401
    r = http.get("/api/v1/devices", headers={"Authorization": "Bearer srd_nonsense"})
    assert r.status_code == 401
    r = http.get("/api/v1/devices", headers={"Authorization": "Basic YWxpY2U6eA=="})
    assert r.status_code == 401


def test_one_account_cannot_see_or_revoke_another_accounts_devices(runtime, http):
    make_user(runtime, "alice")
    make_user(runtime, "bob")
    alice = register_device(http, "alice", name="Alice phone")
    bob = register_device(http, "bob", name="Bob phone")

    seen = http.get("/api/v1/devices", headers=alice.headers).json()["devices"]
    assert [d["name"] for d in seen] == ["Alice phone"]
    r = http.delete(f"/api/v1/devices/{bob.device_id}", headers=alice.headers)
    assert r.status_code == 404
    assert "Bob" not in r.text
    assert http.get("/api/v1/devices", headers=bob.headers).status_code == 200
    assert http.get("/api/v1/account", headers=alice.headers).json()["user"] == "alice"
