"""Share links: password, expiry, download limit, revocation, and what a visitor cannot see."""

from __future__ import annotations

import io
import re
import zipfile

import httpx
import pytest
from PIL import Image

from tests.factories import make_user, register_device, upload_bytes


def _png(color) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def alice(runtime, server):
    make_user(runtime)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        http.headers.update(register_device(http).headers)
        yield http


@pytest.fixture
def visitor(server):
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def _share(alice, **body):
    r = alice.post("/api/v1/shares", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_an_album_link_shows_a_gallery_and_nothing_else(runtime, alice, visitor):
    a = upload_bytes(alice, {}, _png((255, 0, 0)), "red.png", "Private stuff")
    b = upload_bytes(alice, {}, _png((0, 0, 255)), "blue.png")
    secret = upload_bytes(alice, {}, _png((0, 255, 0)), "secret.png")
    album = alice.post("/api/v1/albums", json={"name": "Holiday"}).json()
    alice.post(f"/api/v1/albums/{album['id']}/items", json={"file_ids": [a["id"], b["id"]]})
    link = _share(alice, kind="album", target_id=album["id"])
    assert len(link["token"]) >= 22 and link["url"].endswith(f"/s/{link['token']}")
    page = visitor.get(f"/s/{link['token']}")
    assert page.status_code == 200
    assert "red.png" in page.text and "blue.png" in page.text
    for leak in ("secret.png", "alice", "Private stuff"):
        assert leak not in page.text
    r = visitor.get(f"/s/{link['token']}/f/{a['id']}")
    assert r.status_code == 200 and r.content == _png((255, 0, 0))
    assert visitor.get(f"/s/{link['token']}/f/{secret['id']}").status_code == 404
    archive = zipfile.ZipFile(io.BytesIO(visitor.get(f"/s/{link['token']}/zip").content))
    assert sorted(archive.namelist()) == ["blue.png", "red.png"]


def test_a_password_protected_link(runtime, alice, visitor):
    f = upload_bytes(alice, {}, _png((1, 2, 3)), "private.png")
    link = _share(alice, kind="file", target_id=f["id"], password="open sesame 1")
    page = visitor.get(f"/s/{link['token']}")
    assert "This link is protected" in page.text and "private.png" not in page.text
    assert visitor.get(f"/s/{link['token']}/f/{f['id']}").status_code == 200  # the prompt again
    assert "private.png" not in visitor.get(f"/s/{link['token']}/f/{f['id']}").text
    wrong = visitor.post(f"/s/{link['token']}", data={"password": "guess"})
    assert wrong.status_code == 403 and "private.png" not in wrong.text
    right = visitor.post(f"/s/{link['token']}", data={"password": "open sesame 1"})
    assert right.status_code == 303
    assert "private.png" in visitor.get(f"/s/{link['token']}").text
    assert visitor.get(f"/s/{link['token']}/f/{f['id']}").content == _png((1, 2, 3))


def test_expired_revoked_and_used_up_links_reveal_nothing(runtime, alice, visitor, clock):
    f = upload_bytes(alice, {}, _png((9, 9, 9)), "report-2024.png")
    expiring = _share(alice, kind="file", target_id=f["id"], expires_at=clock.now_ms() + 3_600_000)
    limited = _share(alice, kind="file", target_id=f["id"], max_downloads=1)
    revoked = _share(alice, kind="file", target_id=f["id"])
    assert alice.delete(f"/api/v1/shares/{revoked['id']}").status_code == 204
    first = visitor.get(f"/s/{limited['token']}/f/{f['id']}", params={"download": 1})
    assert first.status_code == 200 and first.headers["content-disposition"].startswith(
        "attachment"
    )
    clock.advance(seconds=3601)
    pages = [visitor.get(f"/s/{x['token']}") for x in (expiring, limited, revoked)]
    pages.append(visitor.get("/s/" + "x" * 32))
    assert {p.status_code for p in pages} == {404}
    bodies = {re.sub(r"\s+", " ", p.text) for p in pages}
    assert len(bodies) == 1  # the same page whatever the reason
    assert "report-2024" not in pages[0].text
    assert alice.get("/api/v1/shares").json()["shares"] and all(
        s["id"] != revoked["id"] for s in alice.get("/api/v1/shares").json()["shares"]
    )


def test_guessing_links_or_passwords_is_rate_limited(runtime, alice, visitor):
    f = upload_bytes(alice, {}, _png((5, 5, 5)), "x.png")
    link = _share(alice, kind="file", target_id=f["id"], password="long password 2")
    statuses = [
        visitor.post(f"/s/{link['token']}", data={"password": f"guess {i}"}).status_code
        for i in range(runtime.settings.login_max_failures * 2)
    ]
    assert set(statuses) == {403}
    refused = visitor.get(f"/s/{link['token']}")
    assert refused.status_code == 429
    assert (
        visitor.post(f"/s/{link['token']}", data={"password": "long password 2"}).status_code == 429
    )


def test_a_folder_link_and_other_accounts_items(runtime, alice, visitor, server):
    upload_bytes(alice, {}, b"top", "top.txt", "Shared")
    upload_bytes(alice, {}, b"deep", "deep.txt", "Shared/Inner")
    folder = next(
        x for x in alice.get("/api/v1/folders").json()["folders"] if x["path"] == "Shared"
    )
    link = _share(alice, kind="folder", target_id=folder["id"])
    page = visitor.get(f"/s/{link['token']}")
    assert "top.txt" in page.text and "deep.txt" in page.text
    make_user(runtime, "bob")
    with httpx.Client(base_url=server.url) as bob:
        bob.headers.update(register_device(bob, "bob").headers)
        r = bob.post("/api/v1/shares", json={"kind": "folder", "target_id": folder["id"]})
        assert r.status_code == 404
        assert bob.delete(f"/api/v1/shares/{link['id']}").status_code == 404
        assert bob.get("/api/v1/shares").json()["shares"] == []
    assert visitor.get(f"/s/{link['token']}").status_code == 200
