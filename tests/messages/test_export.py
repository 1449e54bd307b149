"""Reading the vault out as records: what was stored comes back, in order, lazily, in pages."""

from __future__ import annotations

import base64
import io
import shutil
import tracemalloc

import pytest
from PIL import Image

from strongroom.errors import InvalidInput, NotFound, StrongroomError
from strongroom.formats.sbr_xml import SbrXmlReader
from strongroom.formats.sbr_xml_writer import SbrXmlWriter
from strongroom.messages import export
from strongroom.messages.export import Selection, VaultContent
from strongroom.messages.records import CallRecord, MessageRecord, ReactionRecord
from tests.factories import (
    make_user,
    message,
    store_call,
    store_records,
    upload_part,
    vault_user,
)
from tests.formats.builders import essence, mms, part, read_all, sms, smses, write

OWNER = "+15550100000"
ALICE, BOB = "+15550100001", "+15550100002"


def png(color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, "PNG")
    return buffer.getvalue()


def records_of(rt, account_id, **selection) -> list:
    by_conversation = selection.pop("by_conversation", False)
    source = export.account_records(
        rt, account_id, Selection(**selection), by_conversation=by_conversation
    )
    return list(source)


def text(body, date, sender=ALICE, participants=None, direction="in", **more) -> MessageRecord:
    return MessageRecord(
        kind="sms",
        direction=direction,
        date_ms=date,
        body=body,
        sender=sender if direction == "in" else None,
        participants=participants or [sender],
        source="sbr-xml",
        **more,
    )


def test_uploaded_messages_come_back_as_stored_in_date_order(runtime, connect):
    account_id = make_user(runtime)
    phone = connect()
    picture = png()
    phone.upload(
        [
            message("later", sender="(555) 010-0001", date=1_700_000_300_000, read=True),
            message("first", sender="555-010-0001", date=1_700_000_100_000),
            message("mine", direction="out", participants=[ALICE], date=1_700_000_200_000),
            message(
                "hikers!",
                kind="mms",
                sender=BOB,
                participants=[ALICE, BOB],
                group_title="Hikers",
                date=1_700_000_400_000,
                parts=[
                    upload_part(b"<smil/>", "application/smil", "smil.xml"),
                    upload_part(picture, "image/png", "summit.png"),
                    upload_part(b"BEGIN:VCARD\r\nEND:VCARD\r\n", "text/x-vcard", "bob.vcf"),
                ],
            ),
        ]
    )
    found = records_of(runtime, account_id)
    assert [r.body for r in found] == ["first", "mine", "later", "hikers!"]
    first, mine, later, group = found
    assert (first.sender, first.participants, first.read) == (ALICE, [ALICE], False)
    assert (mine.direction, mine.sender, mine.read, mine.status) == ("out", None, True, "sent")
    assert later.read is True and later.date_ms == 1_700_000_300_000
    assert group.group_title == "Hikers" and group.participants == [ALICE, BOB]
    assert group.kind == "mms" and group.sender == BOB and group.source == "device"
    assert [(p.content_type, p.filename) for p in group.parts] == [
        ("application/smil", "smil.xml"),
        ("image/png", "summit.png"),
        ("text/x-vcard", "bob.vcf"),
    ]
    assert group.parts[1].content.read() == picture
    assert group.parts[1].content.size == len(picture)
    assert b"".join(group.parts[2].content.chunks(5)) == b"BEGIN:VCARD\r\nEND:VCARD\r\n"


def test_attachments_are_read_from_the_blob_store_only_when_a_writer_asks(runtime, connect):
    account_id = make_user(runtime)
    connect().upload([message("pic", kind="mms", parts=[upload_part(png(), "image/png", "a.png")])])
    shutil.rmtree(runtime.settings.data / "blobs")
    [record] = records_of(runtime, account_id)  # listing needs no blob
    [stored] = record.parts
    assert isinstance(stored.content, VaultContent) and stored.content.size > 0
    with pytest.raises(StrongroomError):
        stored.content.read()


def sbr_file(tmp_path):
    image = png((10, 200, 10))
    data = base64.b64encode(image).decode()
    document = smses(
        sms(body="unknown attributes survive", read="0", date="1700000000123", xyz_flag="42"),
        sms(body="sent one", type="2", read="1", date="1700000001000", address=BOB, sub_id="7"),
        mms(
            [
                part(seq="-1", ct="application/smil", name="smil.xml", text="&lt;smil/&gt;"),
                part(ct="text/plain", name="text_0.txt", text="look at this"),
                part(ct="image/png", name="IMG_1.png", text="null", data=data),
            ],
            [(ALICE, 137), (OWNER, 151), (BOB, 130)],
            date="1700000002000",
            date_sent="1700000001",
            read="1",
            m_id="mms-1@example",
        ),
    )
    return write(tmp_path / "sms-1.xml", document), image


def test_sbr_import_then_export_gives_back_messages_flags_dates_bytes_and_unknown_fields(
    runtime, tmp_path
):
    account_id = vault_user(runtime, phone_numbers=[OWNER])
    source, image = sbr_file(tmp_path)
    reader = SbrXmlReader()
    imported = read_all(reader, source, owner_numbers=(OWNER,))
    assert not imported.problems
    assert [o.status for o in store_records(runtime, account_id, imported.messages)] == [
        "created"
    ] * 3
    out = tmp_path / "exported.xml"
    with out.open("wb") as f:
        SbrXmlWriter(owner_number=OWNER).write(records_of(runtime, account_id), f)
    again = read_all(reader, out, owner_numbers=(OWNER,))
    assert sorted(map(essence, again.messages)) == sorted(map(essence, imported.messages))
    assert again.messages[0].extra["xyz_flag"] == "42"
    assert again.messages[1].extra["sub_id"] == "7"
    [picture] = [p for m in again.messages for p in m.parts if p.content_type == "image/png"]
    assert picture.content.read() == image and picture.filename == "IMG_1.png"
    assert again.messages[2].guid == "mms-1@example"


def test_reactions_and_group_titles_travel_with_their_message(runtime):
    account_id = vault_user(runtime)
    target = text("dinner?", 1_700_000_000_000, guid="g-1")
    target.reactions = [
        ReactionRecord("g-1", "love", BOB, 1_700_000_001_000),
        ReactionRecord("g-1", "laugh", None, 1_700_000_002_000),
    ]
    target.participants, target.group_title = [ALICE, BOB], "Dinner club"
    store_records(runtime, account_id, [target])
    [found] = records_of(runtime, account_id)
    assert found.group_title == "Dinner club" and found.guid == "g-1"
    assert [(r.reaction, r.sender, r.date_ms, r.target_guid) for r in found.reactions] == [
        ("love", BOB, 1_700_000_001_000, "g-1"),
        ("laugh", None, 1_700_000_002_000, "g-1"),
    ]


def test_calls_follow_the_messages_in_date_order_and_obey_the_date_range(runtime):
    account_id = vault_user(runtime)
    store_records(runtime, account_id, [text("hi", 1_700_000_050_000)])
    store_call(runtime, account_id, ALICE, 1_700_000_090_000, type="missed", duration_s=0)
    store_call(runtime, account_id, BOB, 1_700_000_010_000, name="Bob", extra={"presentation": "1"})
    store_call(runtime, account_id, ALICE, 1_700_000_060_000, type="outgoing")
    found = records_of(runtime, account_id)
    assert isinstance(found[0], MessageRecord)
    calls = found[1:]
    assert all(isinstance(c, CallRecord) for c in calls)
    assert [(c.number, c.type, c.date_ms) for c in calls] == [
        (BOB, "incoming", 1_700_000_010_000),
        (ALICE, "outgoing", 1_700_000_060_000),
        (ALICE, "missed", 1_700_000_090_000),
    ]
    assert calls[0].name == "Bob" and calls[0].extra == {"presentation": "1"}
    ranged = records_of(runtime, account_id, since_ms=1_700_000_055_000, until_ms=1_700_000_090_000)
    assert [(type(r).__name__, r.date_ms) for r in ranged] == [("CallRecord", 1_700_000_060_000)]


def test_pages_filters_and_conversation_order(runtime, monkeypatch):
    monkeypatch.setattr(export, "PAGE", 3)
    account_id = vault_user(runtime)
    dates = [1_700_000_000_000 + i * 60_000 for i in range(11)]
    store_records(
        runtime,
        account_id,
        [text(f"m{i}", d, sender=ALICE if i % 2 else BOB) for i, d in enumerate(dates)],
    )
    everything = records_of(runtime, account_id)
    assert [r.date_ms for r in everything] == dates
    grouped = records_of(runtime, account_id, by_conversation=True)
    assert sorted(r.body for r in grouped) == sorted(r.body for r in everything)
    senders = [r.sender for r in grouped]
    assert senders == sorted(senders, key=senders.index)  # each conversation comes in one run
    assert len({tuple(r.participants) for r in grouped}) == 2
    assert [r.date_ms for r in grouped if r.sender == ALICE] == dates[1::2]
    ranged = records_of(runtime, account_id, since_ms=dates[2], until_ms=dates[9])
    assert [r.date_ms for r in ranged] == dates[2:9]
    with runtime.db.read() as s:
        from sqlalchemy import select

        from strongroom.messages.models import Conversation, ConversationParticipant, Handle

        cid = s.scalar(
            select(Conversation.id)
            .join(ConversationParticipant)
            .join(Handle)
            .where(Handle.value == ALICE)
        )
    only = records_of(runtime, account_id, conversation_id=cid, since_ms=dates[4])
    assert [r.body for r in only] == ["m5", "m7", "m9"]
    assert export.account_records(runtime, account_id, Selection(cid)).message_count() == 5


def test_another_accounts_conversation_is_not_found(runtime):
    alice = vault_user(runtime, "alice")
    bob = vault_user(runtime, "bob")
    store_records(runtime, bob, [text("bob's", 1_700_000_000_000)])
    [bobs] = records_of(runtime, bob)
    with runtime.db.read() as s:
        from sqlalchemy import select

        from strongroom.messages.models import Conversation

        cid = s.scalar(select(Conversation.id).where(Conversation.account_id == bob))
    for wrong in (cid, cid + 1000):
        with pytest.raises(NotFound):
            export.account_records(runtime, alice, Selection(conversation_id=wrong))
    with pytest.raises(InvalidInput, match="after its start"):
        export.account_records(runtime, alice, Selection(since_ms=5, until_ms=5))
    assert bobs.body == "bob's" and records_of(runtime, alice) == []


def _peak_while_reading(rt, account_id, count: int) -> int:
    tracemalloc.start()
    try:
        read = 0
        for _record in export.account_records(rt, account_id, Selection()):
            read += 1
            if read == count:
                break
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_many_messages_does_not_grow_memory(runtime):
    account_id = vault_user(runtime)
    body = "x" * 2000
    store_records(
        runtime,
        account_id,
        [text(f"{i} {body}", 1_600_000_000_000 + i * 1000) for i in range(4000)],
    )
    one_page = _peak_while_reading(runtime, account_id, export.PAGE + 1)
    all_pages = _peak_while_reading(runtime, account_id, 4000)
    # 4000 bodies of 2 KB are 8 MB as text alone; a page of them is an eighth of that.
    assert all_pages < one_page * 1.5, (one_page, all_pages)


def test_a_stored_part_reads_as_a_stream_in_any_pieces(runtime, connect):
    account_id = make_user(runtime)
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one stored chunk
    connect().upload(
        [message("big", kind="mms", parts=[upload_part(data, "application/pdf", "big.pdf")])]
    )
    [record] = records_of(runtime, account_id)
    content = record.parts[0].content
    with content.open() as f:
        assert f.read(10) == data[:10]
        rest = b""
        while piece := f.read(65_537):
            rest += piece
    assert rest == data[10:] and content.read() == data
    assert b"".join(content.chunks(1000)) == data
