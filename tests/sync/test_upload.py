"""Uploading messages: duplicates, handles, conversations, precision, races, quota."""

from __future__ import annotations

import base64
import threading

import pytest
from sqlalchemy import func, select

from strongroom.client import ApiError
from strongroom.messages.models import Conversation, Message
from tests.factories import make_user, message


def _count(rt, model=Message):
    with rt.db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_the_same_batch_twice_answers_the_same_ids_and_stores_nothing_twice(runtime, connect):
    make_user(runtime)
    phone = connect()
    batch = [message("one"), message("two"), message("three")]
    first = phone.upload(batch)
    assert [r["status"] for r in first["results"]] == ["created"] * 3
    assert [r["client_id"] for r in first["results"]] == [m["client_id"] for m in batch]
    again = phone.upload(batch)
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 3
    assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
    assert _count(runtime) == 3
    assert again["state"] == first["state"]


def test_one_person_written_three_ways_is_one_conversation(runtime, connect):
    make_user(runtime)
    phone = connect()
    for i, how in enumerate(["(555) 010-9999", "+15550109999", "5550109999"]):
        phone.upload([message(f"hi {i}", sender=how, participants=[how])])
    [convo] = list(phone.conversations())
    assert convo["participants"] == ["+15550109999"] and convo["message_count"] == 3


def test_group_and_one_to_one_threads_are_separate_and_the_owner_is_never_a_participant(
    runtime, connect
):
    make_user(runtime)
    phone = connect()
    phone.update_account(phone_numbers=["(555) 010-0000"])
    a, b = "+15550100001", "+15550100002"
    phone.upload(
        [
            message("just us", sender=a, participants=[a]),
            message(
                "group!",
                sender=a,
                participants=[a, b, "+15550100000"],
                kind="mms",
                group_title="Hikers",
            ),
            message(
                "me to group", direction="out", participants=[b, a, "555-010-0000"], kind="mms"
            ),
        ]
    )
    convos = {tuple(c["participants"]): c for c in phone.conversations()}
    assert set(convos) == {(a,), (a, b)}
    assert convos[(a, b)]["title"] == "Hikers" and convos[(a, b)]["message_count"] == 2


def test_a_seconds_only_copy_matches_the_millisecond_copy(runtime, connect):
    make_user(runtime)
    phone = connect()
    ms = 1_700_000_000_123
    [stored] = phone.upload([message("see you", date=ms)])["results"]
    [again] = phone.upload([message("see you", date=ms)])["results"]
    assert again["status"] == "duplicate" and again["id"] == stored["id"]
    # a source with whole seconds only (an IMAP Date header): the same second matches
    [seconds] = phone.upload([message("see you", date=ms - 123, date_precision="s")])["results"]
    assert seconds["status"] == "duplicate" and seconds["id"] == stored["id"]
    [other] = phone.upload([message("see you", date=ms + 1)])["results"]
    assert other["status"] == "created"
    [next_second] = phone.upload([message("see you", date=ms + 877, date_precision="s")])["results"]
    assert next_second["status"] == "created"


def test_two_identical_oks_in_the_same_second_both_survive(runtime, connect):
    make_user(runtime)
    phone = connect()
    oks = [message("ok", date=1_700_000_000_100), message("ok", date=1_700_000_000_700)]
    assert [r["status"] for r in phone.upload(oks)["results"]] == ["created", "created"]
    same_ms = [message("ok", date=1_700_000_005_000), message("ok", date=1_700_000_005_000)]
    first = phone.upload(same_ms)["results"]
    assert [r["status"] for r in first] == ["created", "created"]
    again = phone.upload(same_ms)["results"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert {r["id"] for r in again} == {r["id"] for r in first}
    assert _count(runtime) == 4
    # the same two from a seconds-only source match both; a third "ok" that second is new
    seconds = [message("ok", date=1_700_000_000_000, date_precision="s") for _ in range(3)]
    statuses = [r["status"] for r in phone.upload(seconds)["results"]]
    assert statuses == ["duplicate", "duplicate", "created"]
    assert _count(runtime) == 5


def test_two_devices_uploading_overlapping_batches_at_once_store_each_message_once(
    runtime, connect
):
    make_user(runtime)
    phones = [connect(name=f"phone {i}") for i in range(2)]
    shared = [message(f"shared {i}", date=1_700_000_100_000 + i) for i in range(60)]
    answers: list[dict] = []

    def go(phone, items):
        answers.append(phone.upload(items))

    threads = [
        threading.Thread(target=go, args=(phones[0], shared)),
        threading.Thread(target=go, args=(phones[1], list(reversed(shared)))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _count(runtime) == 60
    ids = [{r["client_id"]: r["id"] for r in a["results"]} for a in answers]
    assert ids[0] == ids[1]


def test_upload_before_the_service_is_on_is_refused(runtime, connect):
    make_user(runtime)
    phone = connect(enable=False)
    with pytest.raises(ApiError) as refused:
        phone.upload([message()])
    assert refused.value.status == 403 and refused.value.code == "messages-service-off"


def test_bad_items_are_rejected_one_by_one(runtime, connect):
    make_user(runtime)
    phone = connect()
    results = phone.upload(
        [
            message("fine"),
            message("no kind", kind="fax"),
            message("bad base64", parts=[{"content_type": "image/png", "data_base64": "!!"}]),
            message("nobody", participants=[], sender=None, direction="out"),
            message("bad status", status="lost"),
        ]
    )["results"]
    assert [r["status"] for r in results] == ["created"] + ["rejected"] * 4
    assert all(r["problem"]["detail"] for r in results[1:])
    assert _count(runtime) == 1


def test_a_batch_over_1000_is_refused(runtime, connect):
    make_user(runtime)
    phone = connect()
    with pytest.raises(ApiError) as refused:
        phone.upload([message(str(i)) for i in range(1001)])
    assert refused.value.status == 422


def test_a_message_beyond_the_quota_is_refused_and_nothing_partial_is_stored(runtime, connect):
    make_user(runtime)
    from strongroom.accounts.service import set_quota

    with runtime.db.write() as s:
        set_quota(s, "alice", 150_000)
    phone = connect()
    picture = base64.b64encode(b"\x89PNG" + b"x" * 100_000).decode()
    results = phone.upload(
        [
            message(
                "small",
                parts=[{"content_type": "image/png", "filename": "a.png", "data_base64": picture}],
                kind="mms",
            ),
            message(
                "too much",
                parts=[
                    {
                        "content_type": "image/png",
                        "filename": "b.png",
                        "data_base64": base64.b64encode(b"y" * 100_000).decode(),
                    }
                ],
                kind="mms",
            ),
        ]
    )["results"]
    assert [r["status"] for r in results] == ["created", "rejected"]
    assert results[1]["problem"]["code"] == "quota-exceeded"
    assert _count(runtime) == 1
    assert _count(runtime, Conversation) == 1


def test_a_large_part_uploaded_first_is_referenced_by_id(runtime, connect):
    import hashlib
    import os

    from tests.factories import tus_metadata

    make_user(runtime)
    phone = connect()
    video = os.urandom(3 * 1024 * 1024 + 7)
    r = phone.http.post(
        "/api/v1/uploads",
        content=video,
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(video)),
            "Upload-Metadata": tus_metadata(purpose="message-part"),
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert r.status_code == 201 and "strongroom-file-id" not in r.headers
    upload_id = r.headers["location"].rsplit("/", 1)[1]
    [result] = phone.upload(
        [
            message(
                "watch this",
                kind="mms",
                parts=[{"content_type": "video/mp4", "filename": "clip.mp4", "upload": upload_id}],
            )
        ]
    )["results"]
    assert result["status"] == "created", result
    [stored] = phone.get([result["id"]])
    got = phone.part(stored["parts"][0]["id"]).content
    assert hashlib.sha256(got).digest() == hashlib.sha256(video).digest()
    assert phone.http.get("/api/v1/files").json()["files"] == []  # not a locker file
    [bad] = phone.upload(
        [
            message(
                "x", kind="mms", parts=[{"content_type": "video/mp4", "upload": "no-such-upload"}]
            )
        ]
    )["results"]
    assert bad["status"] == "rejected" and "upload" in bad["problem"]["detail"]
