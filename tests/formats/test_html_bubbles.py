"""The pieces of the HTML pages: every attachment kind, statuses, and escaping."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import html as lxml_html

from strongroom.formats.html_bubbles import attachment_html, esc, href, message_html
from strongroom.messages.records import InlineContent, PartRecord
from tests.formats.export_builders import T0, sms


def element(fragment: str):
    return lxml_html.fragment_fromstring(fragment)


def part(content_type: str, name: str | None = "file") -> PartRecord:
    return PartRecord(content_type, InlineContent(b"12345"), name)


def test_pictures_video_and_audio_play_in_place_and_the_rest_are_links():
    path = "attachments/2023-11/a b#c.jpg"
    picture = element(attachment_html(part("image/jpeg; name=x.jpg", "x.jpg"), path))
    assert picture.find(".//img").get("src") == "attachments/2023-11/a%20b%23c.jpg"
    assert element(attachment_html(part("video/mp4"), "v.mp4")).find(".//video") is not None
    assert element(attachment_html(part("audio/mpeg"), "a.mp3")).find(".//audio") is not None
    for kind in ("image/heic", "image/svg+xml", "application/pdf", "text/html"):
        link = element(attachment_html(part(kind, "Report.pdf"), "attachments/r.pdf"))
        assert link.find(".//img") is None
        anchor = link.find(".//a")
        assert anchor.get("download") == "Report.pdf" and anchor.text == "Report.pdf"
        assert "5 bytes" in link.text_content()
    nameless = element(attachment_html(part("application/pdf", None), "attachments/x/y.pdf"))
    assert nameless.find(".//a").text == "y.pdf"


def test_a_failed_message_says_so_and_the_time_is_machine_readable():
    moment = datetime.fromtimestamp(T0 / 1000, UTC)
    bubble = element(
        message_html(sms("oops", T0, out=True, status="failed"), moment, str, group=False)
    )
    assert bubble.get("class") == "msg out failed"
    assert bubble.find(".//time").get("datetime") == "2023-11-14T22:13:20+00:00"
    assert "failed" in bubble.find('.//p[@class="meta"]').text_content()


def test_escaping_covers_content_and_attributes():
    assert esc('<a href="x">&\'</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;&lt;/a&gt;"
    assert href('attachments/"quoted".png') == "attachments/%22quoted%22.png"
