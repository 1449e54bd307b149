"""The HTML export: a folder that shows each conversation as the chat, and that no message can
break out of (no markup from bodies or names, no file outside the folder)."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from lxml import html as lxml_html

from strongroom.formats.folders import DirectoryFolder
from strongroom.formats.html_export import HtmlWriter
from strongroom.messages.records import InlineContent, PartRecord
from tests.conftest import missing
from tests.formats.builders import PNG
from tests.formats.export_builders import (
    ALICE,
    BOB,
    HOSTILE_BODY,
    HOSTILE_NAMES,
    T0,
    Unseekable,
    account,
    files_under,
    group_mms,
    hostile,
    picture,
    sms,
)


def export(records, tmp_path: Path, **options) -> Path:
    root = tmp_path / "export"
    root.mkdir()
    HtmlWriter(**options).write_folder(records, DirectoryFolder(root))
    return root


def page(root: Path, name: str):
    return lxml_html.fromstring((root / name).read_bytes())


def conversation_pages(root: Path) -> list[str]:
    return sorted(
        p.name for p in root.iterdir() if re.fullmatch(r"c[0-9a-f]{12}(-\d+)?\.html", p.name)
    )


def test_the_folder_has_an_index_a_style_sheet_a_page_per_conversation_and_the_files(tmp_path):
    root = export(account(), tmp_path)
    files = files_under(root)
    assert {"index.html", "style.css", "calls.html"} <= set(files)
    assert len(conversation_pages(root)) == 2
    attachments = sorted(n for n in files if n.startswith("attachments/"))
    assert len(attachments) == 2  # the picture and the vCard; never the SMIL layout
    assert any(n.endswith("-summit.png") and files[n] == PNG for n in attachments)
    assert any(n.endswith("-bob.vcf") for n in attachments)
    index = page(root, "index.html")
    names = [a.text_content() for a in index.cssselect("ul.conversations a .name")]
    assert names == ["Hikers", ALICE]  # most recent first
    for link in index.cssselect("ul.conversations a"):
        assert (root / link.get("href")).is_file()
    assert (root / index.cssselect("nav a")[0].get("href")).name == "calls.html"


def test_a_conversation_page_looks_like_the_chat(tmp_path):
    root = export(account(), tmp_path)
    index = page(root, "index.html")
    group = page(root, index.cssselect("ul.conversations a")[0].get("href"))
    messages = group.cssselect("article.msg")
    assert [m.get("class").split()[1] for m in messages] == ["in", "in", "out"]
    assert [m.cssselect(".from")[0].text for m in messages[:2]] == [BOB, ALICE]
    assert not messages[2].cssselect(".from")  # the owner's own bubble names nobody
    [image] = messages[0].cssselect("img")
    assert (root / unquote(image.get("src"))).read_bytes() == PNG
    [vcard] = messages[0].cssselect("a[download]")
    assert vcard.get("download") == "bob.vcf" and vcard.text == "bob.vcf"
    assert (root / unquote(vcard.get("href"))).read_bytes().startswith(b"BEGIN:VCARD")
    assert messages[0].cssselect(".text")[0].text == "the view"
    assert "\u2764" in messages[0].cssselect(".reactions")[0].text_content()
    assert messages[0].cssselect("time")[0].text == "23:13"
    assert "failed" in messages[2].get("class")
    days = [h.text for h in group.cssselect("h2.day")]
    assert days == ["Tuesday 14 November 2023", "Wednesday 15 November 2023"]
    one = page(root, index.cssselect("ul.conversations a")[1].get("href"))
    assert one.cssselect(".text")[1].text == "hello!\nsecond line"
    assert not one.cssselect(".from")  # no sender names in a one-to-one chat


def test_hostile_bodies_names_and_titles_stay_text(tmp_path):
    root = export(hostile(), tmp_path)
    [name] = conversation_pages(root)
    raw = (root / name).read_text()
    assert "<script" not in raw and "<svg" not in raw and "<b>" not in raw and "<i>" not in raw
    doc = page(root, name)
    for element in doc.iter():
        assert not [a for a in element.attrib if a.lower().startswith("on")], element.tag
    assert doc.cssselect(".text")[0].text == HOSTILE_BODY
    assert doc.cssselect(".subject")[0].text == "<i>subject</i>"
    assert doc.cssselect(".from")[0].text == "<svg onload=alert(1)>"
    assert doc.find(".//title").text.startswith("</title><script>")
    shown = [a.text for a in doc.cssselect("a[download]")]
    assert shown == [n for n in HOSTILE_NAMES if not n.endswith(".png")]
    assert [i.get("alt") for i in doc.cssselect("img")] == ["<b>bold</b>.png"]
    assert "script-src 'none'" in doc.cssselect("meta[http-equiv]")[0].get("content")


def test_hostile_file_names_never_leave_the_folder_or_disguise_their_type(tmp_path):
    root = export(hostile(), tmp_path)
    written = files_under(root)
    attachments = [n for n in written if n.startswith("attachments/")]
    assert len(attachments) == len(HOSTILE_NAMES)
    for name in attachments:
        last = name.rsplit("/", 1)[-1]
        assert "\u202e" not in last and "<" not in last and '"' not in last
        assert (root / name).resolve().is_relative_to(root.resolve())
    assert not (tmp_path / "etc").exists()
    assert any(n.endswith("-passwd") for n in attachments)
    assert any(n.endswith("-_CON.txt") for n in attachments)
    for link in page(root, conversation_pages(root)[0]).xpath("//@href | //@src"):
        assert not link.startswith(("/", "http", "javascript", "data")), link
        assert (root / unquote(link)).resolve().is_relative_to(root.resolve())


def test_long_conversations_are_split_into_linked_pages(tmp_path):
    records = [sms(f"message {i}", T0 + i * 1000) for i in range(7)]
    root = export(records, tmp_path, page_messages=3)
    pages = conversation_pages(root)
    assert len(pages) == 3
    first = page(root, min(pages, key=len))
    key = min(pages, key=len).removesuffix(".html")
    chain = [f"{key}.html", f"{key}-2.html", f"{key}-3.html"]
    assert sorted(chain) == pages
    texts = [[t.text for t in page(root, p).cssselect(".text")] for p in chain]
    assert texts == [[f"message {i}" for i in r] for r in ([0, 1, 2], [3, 4, 5], [6])]
    assert [a.get("href") for a in first.cssselect("nav.pages a")] == [chain[1]]
    middle = [a.get("href") for a in page(root, chain[1]).cssselect("nav.pages a")]
    assert middle == [chain[0], chain[2]]
    assert [a.get("href") for a in page(root, chain[2]).cssselect("nav.pages a")] == [chain[1]]


def test_the_same_message_stored_twice_shares_its_attachment_file(tmp_path):
    twice = [group_mms("same", T0, BOB, [picture()]) for _ in range(2)]
    out = io.BytesIO()
    HtmlWriter().write(twice, out)  # a duplicate member would be a zipfile warning (an error)
    names = zipfile.ZipFile(out).namelist()
    assert len([n for n in names if n.endswith("summit.png")]) == 1


def test_as_a_zip_it_streams_to_a_stream_that_cannot_seek(tmp_path):
    stream = Unseekable()
    HtmlWriter().write(account(), stream)
    archive = zipfile.ZipFile(io.BytesIO(bytes(stream.data)))
    assert archive.testzip() is None
    names = archive.namelist()
    assert "messages/index.html" in names and "messages/style.css" in names
    assert all(n.startswith("messages/") for n in names)
    [png] = [n for n in names if n.endswith(".png")]
    assert archive.read(png) == PNG
    assert archive.getinfo(png).compress_type == zipfile.ZIP_STORED  # PNG is compressed already


def test_a_conversation_that_comes_back_continues_on_a_new_page(tmp_path):
    records = [sms("one", T0), sms("other", T0 + 1, sender=BOB), sms("two", T0 + 2)]
    root = export(records, tmp_path)
    pages = conversation_pages(root)
    [second] = [p for p in pages if p.endswith("-2.html")]
    first = second.replace("-2.html", ".html")
    assert [t.text for t in page(root, first).cssselect(".text")] == ["one"]
    assert [t.text for t in page(root, second).cssselect(".text")] == ["two"]
    assert [a.get("href") for a in page(root, second).cssselect("nav.pages a")] == [first]
    assert len(pages) == 3


def test_text_parts_are_shown_when_a_message_has_no_body(tmp_path):
    record = group_mms("", T0, BOB, [PartRecord("text/plain", InlineContent(b"from a part"))])
    root = export([record], tmp_path)
    doc = page(root, conversation_pages(root)[0])
    assert doc.cssselect(".text")[0].text == "from a part"
    assert not (root / "attachments").exists()


@pytest.mark.browser
def test_the_pages_open_from_disk_in_a_browser_with_pictures_and_style(tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        missing("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    root = export(account() + hostile(), tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            tab = browser.new_page()
            dialogs: list[str] = []
            tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            tab.goto((root / "index.html").as_uri())
            tab.click("text=Hikers")
            image = tab.locator("article img").first
            image.wait_for()
            assert tab.evaluate("i => i.naturalWidth", image.element_handle()) == 1
            side = tab.evaluate(
                "() => getComputedStyle(document.querySelector('.msg.out')).alignItems"
            )
            assert side == "flex-end"  # the style sheet applies: sent messages on the right
            tab.goto((root / "index.html").as_uri())
            tab.click("text=</title>")
            tab.locator("article").first.wait_for()
            assert tab.locator(".text").first.inner_text().startswith('<script>alert("body")')
            assert dialogs == []
        finally:
            browser.close()
