"""Messages as chat bubbles: names, runs, days, attachments and highlighted words."""

from __future__ import annotations

from strongroom.messages.service import MessageView, PartView, ReactionView
from strongroom.web.ui.bubbles import Names, attachments, bubbles, highlight

MINUTE = 60_000
DAY = 86_400_000
T0 = 1_700_000_000_000 - (1_700_000_000_000 % DAY) + 9 * 3_600_000  # 09:00 UTC one day


def view(n: int, date: int, direction: str = "in", sender: str | None = "+15550100001", **kw):
    return MessageView(
        id=n,
        conversation_id=1,
        kind="sms",
        direction=direction,
        sender=sender if direction == "in" else None,
        participants=["+15550100001", "+15550100002"],
        date=date,
        date_sent=None,
        read=True,
        status="received" if direction == "in" else kw.pop("status", "sent"),
        subject=None,
        body=kw.pop("body", f"message {n}"),
        guid=None,
        reply_to_guid=None,
        source="device",
        extra={},
        **kw,
    )


def test_numbers_read_as_at_home_or_abroad():
    names = Names("GB")
    assert names.person("+442079460018") == "020 7946 0018"
    assert names.person("+12025550143") == "+1 202-555-0143"
    assert names.person("mum@example.org") == "mum@example.org"
    assert names.person(None) == "Unknown sender"
    assert names.conversation(None, ["+442079460018", "Bob"]) == "020 7946 0018, Bob"
    assert names.conversation("Family", ["+442079460018"]) == "Family"


def test_runs_days_senders_and_times():
    views = [
        view(1, T0, sender="+15550100001"),
        view(2, T0 + MINUTE, sender="+15550100001"),  # same run: no name, no time above
        view(3, T0 + 2 * MINUTE, sender="+15550100002"),  # another sender: named
        view(4, T0 + 3 * MINUTE, direction="out", status="failed"),
        view(5, T0 + 4 * MINUTE, direction="out"),
        view(6, T0 + 20 * MINUTE, direction="out"),  # same side but later: its own time
        view(7, T0 + DAY, sender="+15550100002"),  # a new day
    ]
    out = bubbles(views, Names("US"), group=True)
    assert [b.day is not None for b in out] == [True, False, False, False, False, False, True]
    assert [b.sender for b in out] == [
        "+1 555-010-0001",
        None,
        "+1 555-010-0002",
        None,
        None,
        None,
        "+1 555-010-0002",
    ]
    assert [b.tail for b in out] == [False, True, True, False, True, True, True]
    assert [b.side for b in out] == ["in", "in", "in", "out", "out", "out", "in"]
    assert out[3].status == ("Not sent", "failed") and out[4].status == ("Sent", "sent")
    assert out[0].status is None
    one_to_one = bubbles(views[:2], Names("US"), group=False)
    assert [b.sender for b in one_to_one] == [None, None]


def test_attachments_are_sorted_by_kind_and_mms_text_parts_are_the_body():
    parts = [
        PartView(1, "application/smil", "smil.xml", 10, 1),
        PartView(2, "text/plain; charset=utf-8", "text_0.txt", 5, 2),
        PartView(3, "image/jpeg", "IMG_1.jpg", 1000, 3),
        PartView(4, "video/mp4", None, 2000, 4),
        PartView(5, "image/svg+xml", "logo.svg", 300, 5),
        PartView(6, "text/vcard", "Ann.vcf", 200, 6),
    ]
    found = attachments(parts)
    assert [(a.id, a.kind, a.name) for a in found] == [
        (3, "image", "IMG_1.jpg"),
        (4, "video", "attachment-4"),
        (5, "file", "logo.svg"),
        (6, "file", "Ann.vcf"),
    ]
    b = bubbles(
        [
            view(
                9,
                T0,
                parts=parts,
                reactions=[ReactionView("love", None, T0), ReactionView("love", "x", T0)],
            )
        ],
        Names("US"),
        group=False,
    )[0]
    assert [a.id for a in b.media] == [3, 4] and [a.id for a in b.files] == [5, 6]
    assert b.reactions == [("❤️", 2)]


def test_highlighting_escapes_the_text_and_marks_every_word_of_the_query():
    marked = highlight("<b>Lake</b> & lake-side", "lake")
    assert str(marked) == "&lt;b&gt;<mark>Lake</mark>&lt;/b&gt; &amp; <mark>lake</mark>-side"
    assert str(highlight("a <i>b</i>", None)) == "a &lt;i&gt;b&lt;/i&gt;"
    assert str(highlight("AND", "AND")) == "AND"  # no words to search: nothing marked
    hit = bubbles(
        [view(5, T0, body="cold at the <lake>")], Names("US"), group=False, hit=5, query="lake"
    )
    assert str(hit[0].text) == "cold at the &lt;<mark>lake</mark>&gt;" and hit[0].hit
