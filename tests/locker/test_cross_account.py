"""Every locker endpoint refuses another account's items: 404, never data."""

from __future__ import annotations

import httpx

from tests.factories import make_user, register_device, upload_bytes


def test_bob_cannot_touch_anything_of_alice(runtime, server):
    make_user(runtime, "alice")
    make_user(runtime, "bob")
    with httpx.Client(base_url=server.url) as alice, httpx.Client(base_url=server.url) as bob:
        alice.headers.update(register_device(alice, "alice").headers)
        bob.headers.update(register_device(bob, "bob").headers)
        f = upload_bytes(alice, {}, b"alice's secret diary", "diary.txt", "Private")
        fid = f["id"]
        folder = alice.get("/api/v1/folders").json()["folders"][0]["id"]
        album = alice.post("/api/v1/albums", json={"name": "Mine"}).json()["id"]
        versions = alice.get(f"/api/v1/files/{fid}/versions").json()["versions"]
        attempts = [
            ("GET", f"/api/v1/files/{fid}", None),
            ("GET", f"/api/v1/files/{fid}/content", None),
            ("GET", f"/api/v1/files/{fid}/thumbnail", None),
            ("GET", f"/api/v1/files/{fid}/versions", None),
            ("PATCH", f"/api/v1/files/{fid}", {"name": "pwned.txt"}),
            ("POST", f"/api/v1/files/{fid}/copy", {"folder": "Stolen"}),
            ("DELETE", f"/api/v1/files/{fid}", None),
            ("POST", f"/api/v1/files/{fid}/restore", None),
            ("POST", f"/api/v1/files/{fid}/versions/{versions[0]['id']}/restore", None),
            ("POST", "/api/v1/files/zip", {"ids": [fid]}),
            ("PATCH", f"/api/v1/folders/{folder}", {"path": "Taken"}),
            ("DELETE", f"/api/v1/folders/{folder}", None),
            ("POST", f"/api/v1/folders/{folder}/restore", None),
            ("GET", f"/api/v1/albums/{album}", None),
            ("PATCH", f"/api/v1/albums/{album}", {"name": "x"}),
            ("POST", f"/api/v1/albums/{album}/items", {"file_ids": [fid]}),
            ("DELETE", f"/api/v1/albums/{album}", None),
            ("POST", "/api/v1/shares", {"kind": "file", "target_id": fid}),
            ("GET", "/api/v1/files?folder=Private", None),
        ]
        for method, path, body in attempts:
            r = bob.request(method, path, json=body)
            assert r.status_code == 404, (method, path, r.status_code, r.text)
            assert "diary" not in r.text and "secret" not in r.text
        bob_album = bob.post("/api/v1/albums", json={"name": "Bob's"}).json()["id"]
        r = bob.post(f"/api/v1/albums/{bob_album}/items", json={"file_ids": [fid]})
        assert r.status_code == 404
        same = bob.post(
            "/api/v1/files/by-hash",
            json={"sha256": f["sha256"], "size": f["size"], "filename": "guess.txt"},
        )
        assert same.status_code == 404  # another account's content is not "already stored"
        many = bob.post(
            "/api/v1/files/by-hash/batch",
            json={"files": [{"sha256": f["sha256"], "size": f["size"], "filename": "g.txt"}]},
        )
        assert many.status_code == 200 and many.json() == {"files": [None]}
        sizes = bob.post("/api/v1/files/sizes", json={"sizes": [f["size"]]})
        assert sizes.json() == {"sizes": []}  # nor is its size
        assert bob.get("/api/v1/files").json()["files"] == []
        assert bob.get("/api/v1/usage").json()["used_bytes"] == 0
        assert alice.get(f"/api/v1/files/{fid}/content").content == b"alice's secret diary"
        assert alice.get(f"/api/v1/files/{fid}").json()["name"] == "diary.txt"
