"""`strongroom stats`: what an account holds, across messages and the locker."""

from __future__ import annotations

from strongroom.sync.stats import stats
from tests.factories import make_user, message, store_call, upload_bytes, upload_part
from tests.messages.test_export import ALICE, BOB, png


def test_stats_count_what_was_stored(runtime, connect):
    account_id = make_user(runtime)
    phone = connect()
    picture = png()
    phone.upload(
        [
            message("a", sender=ALICE),
            message("b", sender=BOB),
            message(
                "c",
                kind="mms",
                sender=ALICE,
                parts=[
                    upload_part(b"<smil/>", "application/smil", "s.xml"),
                    upload_part(b"c", "text/plain", "t.txt"),
                    upload_part(picture, "image/png", "p.png"),
                    upload_part(b"vcard", "text/x-vcard", "v.vcf"),
                ],
            ),
        ]
    )
    store_call(runtime, account_id, ALICE, 1_700_000_000_000)
    with runtime.db.read() as s:
        found = stats(s, account_id)
    assert (found.messages, found.conversations, found.attachments, found.calls) == (3, 2, 2, 1)
    assert found.files == 0
    upload_bytes(phone.http, {}, picture, "p.png", "Photos")
    with runtime.db.read() as s:
        assert stats(s, account_id).files == 1
    assert found.bytes_used == len(b"<smil/>") + 1 + len(picture) + len(b"vcard")
    assert found.quota_bytes == runtime.settings.default_quota_bytes
