"""Reading the vault: attachments, conversation pages, search, events, and other accounts."""

from __future__ import annotations

import base64
import io
import json
import threading

import httpx
import pytest
from PIL import Image

from strongroom.client import ApiError
from tests.factories import make_user, message


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _part(data: bytes, content_type: str, filename: str | None) -> dict:
    return {
        "content_type": content_type,
        "filename": filename,
        "data_base64": base64.b64encode(data).decode(),
    }


def test_attachments_come_back_as_what_they_are(runtime, connect):
    make_user(runtime)
    phone = connect()
    png = _png()
    [mid] = [
        r["id"]
        for r in phone.upload(
            [
                message(
                    "look",
                    kind="mms",
                    parts=[
                        _part(b"<smil/>", "application/smil", "smil.xml"),
                        _part(png, "image/png", "Beach Day é.png"),
                        _part(b"<script>alert(1)</script>", "text/html", "page.html"),
                    ],
                )
            ]
        )["results"]
    ]
    [stored] = phone.get([mid])
    smil, picture, page = stored["parts"]
    assert (picture["content_type"], picture["filename"], picture["size"]) == (
        "image/png",
        "Beach Day é.png",
        len(png),
    )
    r = phone.part(picture["id"])
    assert r.content == png and r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"].startswith("inline")
    assert "filename*=UTF-8''Beach%20Day%20%C3%A9.png" in r.headers["content-disposition"]
    Image.open(io.BytesIO(r.content)).verify()
    # content that could run in the browser is never served inline
    r = phone.part(page["id"])
    assert r.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in r.headers["content-security-policy"]
    # ranges, as a video player asks
    r = phone.http.get(f"/api/v1/messages/parts/{picture['id']}", headers={"Range": "bytes=4-9"})
    assert r.status_code == 206 and r.content == png[4:10]
    assert r.headers["content-range"] == f"bytes 4-9/{len(png)}"
    r = phone.http.get(
        f"/api/v1/messages/parts/{picture['id']}", headers={"Range": f"bytes={len(png) + 5}-"}
    )
    assert r.status_code == 416
    assert smil["content_type"] == "application/smil"


def test_conversation_pages_and_list_are_newest_first_with_cursors(runtime, connect):
    make_user(runtime)
    phone = connect()
    people = [f"+1555010{i:04d}" for i in range(5)]
    items = [
        message(
            f"m{n}",
            sender=people[n % 5],
            participants=[people[n % 5]],
            date=1_700_000_000_000 + n * 1000,
        )
        for n in range(23)
    ]
    phone.upload(items)
    convos = list(phone.conversations())
    assert [c["participants"][0] for c in convos] == [
        people[2],
        people[1],
        people[0],
        people[4],
        people[3],
    ]
    first = convos[0]
    page = phone.conversation_messages(first["id"], limit=2)
    assert [m["body"] for m in page["messages"]] == ["m22", "m17"]
    page2 = phone.conversation_messages(first["id"], before=page["cursor"], limit=2)
    assert [m["body"] for m in page2["messages"]] == ["m12", "m7"]
    page3 = phone.conversation_messages(first["id"], before=page2["cursor"], limit=2)
    assert [m["body"] for m in page3["messages"]] == ["m2"] and page3["cursor"] is None
    assert first["snippet"] == "m22" and first["unread_count"] == 5
    r = phone.http.get("/api/v1/conversations", params={"limit": 2})
    assert len(r.json()["conversations"]) == 2 and r.json()["cursor"]
    rest = phone.http.get("/api/v1/conversations", params={"cursor": r.json()["cursor"]})
    assert len(rest.json()["conversations"]) == 3


def _last_with_a_picture(texts: list[tuple[str, str]]) -> list[dict]:
    """Incoming messages of ``(body, sender)`` a second apart, the last an MMS with a PNG."""
    found = [
        message(body, sender=sender, date=1_700_000_001_000 + 1000 * i)
        for i, (body, sender) in enumerate(texts)
    ]
    found[-1].update(kind="mms", parts=[_part(_png(), "image/png", "picture.png")])
    return found


def test_search_finds_words_newest_first_with_highlights_and_filters(runtime, connect):
    make_user(runtime)
    phone = connect()
    a, b = "+15550100001", "+15550100002"
    phone.upload(
        _last_with_a_picture(
            [
                ("Dinner at the café tonight?", a),
                ("dinner was great <b>thanks</b>", b),
                ("Lunch tomorrow", a),
                ("DINNER plans: pizza", a),
            ]
        )
    )
    found = phone.search("dinner")["results"]
    assert [h["message"]["body"][:6] for h in found] == ["DINNER", "dinner", "Dinner"]
    # marked once, escaped (never raw HTML)
    assert found[1]["snippet_html"] == "<mark>dinner</mark> was great &lt;b&gt;thanks&lt;/b&gt;"
    assert found[2]["snippet_html"] == "<mark>Dinner</mark> at the café tonight?"
    assert [h["message"]["body"][:6] for h in phone.search("cafe")["results"]] == ["Dinner"]
    assert len(phone.search("dinner", participant="(555) 010-0001")["results"]) == 2
    assert len(phone.search("dinner", has_attachment="true")["results"]) == 1
    assert len(phone.search("dinner", before=1_700_000_002_500)["results"]) == 2
    assert len(phone.search('"dinner plans"')["results"]) == 1
    page = phone.search("dinner", limit=2)
    assert page["cursor"] is not None
    rest = phone.search("dinner", limit=2, cursor=page["cursor"])["results"]
    assert [h["message"]["body"][:6] for h in rest] == ["Dinner"]
    for hostile in ['dinner OR "', "NEAR(dinner", "tags:a1", "*", "body:dinner)"]:
        phone.search(hostile)  # operators are words, never an error or another account
    with pytest.raises(ApiError) as empty:
        phone.search("   ")
    assert empty.value.status == 400


def _search_index_is_whole(runtime) -> None:
    """SQLite: FTS5 checks its index against the messages it reads its text from (it raises
    where a message's words are missing, or a deleted message's words are left)."""
    from sqlalchemy import text

    if runtime.db.is_sqlite:
        with runtime.db.write() as s:
            s.execute(
                text("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
            )


def test_deleted_messages_and_conversations_leave_the_search(runtime, connect):
    from strongroom.accounts import lifecycle

    make_user(runtime)
    bob = make_user(runtime, "bob")
    phone, other = connect(), connect("bob", name="Bob phone")
    a, b = "+15550100001", "+15550100002"
    texts = [("walrus one", a), ("walrus two", a), ("walrus three", b), ("walrus picture", b)]
    ids = [r["id"] for r in phone.upload(_last_with_a_picture(texts))["results"]]
    other.upload([message("walrus of bob", sender=a, date=1_700_000_005_000)])
    _search_index_is_whole(runtime)
    assert len(phone.search("walrus")["results"]) == 4
    assert len(phone.search("walrus", has_attachment="true")["results"]) == 1
    assert phone.set(destroy=[ids[0]])["destroyed"] == [ids[0]]
    assert [h["message"]["body"] for h in phone.search("walrus")["results"]][-1] == "walrus two"
    assert phone.search("one")["results"] == []
    _search_index_is_whole(runtime)
    [conversation] = {m["conversation_id"] for m in phone.get(ids[2:])}
    assert phone.http.delete(f"/api/v1/conversations/{conversation}").status_code in (200, 204)
    assert [h["message"]["body"] for h in phone.search("walrus")["results"]] == ["walrus two"]
    assert phone.search("picture")["results"] == []
    _search_index_is_whole(runtime)
    with runtime.db.write() as s:
        lifecycle.cancel(s, bob, now=runtime.clock.now_ms(), hold_ms=0)
        assert lifecycle.begin_purge(s, bob, runtime.clock.now_ms()) is not None
        lifecycle.finish_purge(s, bob)
    _search_index_is_whole(runtime)
    assert [h["message"]["body"] for h in phone.search("walrus")["results"]] == ["walrus two"]


def test_another_account_gets_nothing(runtime, connect):
    make_user(runtime, "alice")
    make_user(runtime, "bob")
    alice, bob = connect("alice"), connect("bob", name="Bob phone")
    [mid] = [
        r["id"]
        for r in alice.upload(
            [message("secret plans", kind="mms", parts=[_part(_png(), "image/png", "x.png")])]
        )["results"]
    ]
    [stored] = alice.get([mid])
    conversation, part = stored["conversation_id"], stored["parts"][0]["id"]
    assert bob.get([mid]) == []
    assert bob.call("POST", "/api/v1/messages/get", json={"ids": [mid]})["not_found"] == [mid]
    for path in [
        f"/api/v1/messages/parts/{part}",
        f"/api/v1/conversations/{conversation}",
        f"/api/v1/conversations/{conversation}/messages",
    ]:
        r = bob.http.get(path)
        assert r.status_code == 404 and "secret" not in r.text
    assert bob.http.delete(f"/api/v1/conversations/{conversation}").status_code == 404
    answer = bob.set(update={mid: {"read": True}}, destroy=[mid])
    assert answer["updated"] == [] and answer["destroyed"] == []
    assert set(answer["not_updated"]) == {mid} and set(answer["not_destroyed"]) == {mid}
    assert bob.search("secret")["results"] == []
    assert bob.search("plans", conversation=conversation)["results"] == []
    assert list(bob.conversations()) == []
    assert alice.get([mid])[0]["read"] is False  # untouched


def test_events_announce_a_new_state_without_polling(runtime, server, connect):
    make_user(runtime)
    watcher, sender = connect(name="web"), connect(name="phone")
    seen: list[dict] = []
    ready = threading.Event()

    def listen():
        with httpx.Client(base_url=server.url, headers=watcher.http.headers, timeout=20) as h:
            with h.stream("GET", "/api/v1/events") as r:
                assert r.headers["content-type"].startswith("text/event-stream")
                for line in r.iter_lines():
                    if line.startswith("data: "):
                        seen.append(json.loads(line[6:]))
                        ready.set()
                        if len(seen) == 2:
                            return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(15)
    answer = sender.upload([message("ping")])
    thread.join(15)
    assert len(seen) == 2 and seen[1]["state"] == answer["state"] != seen[0]["state"]
