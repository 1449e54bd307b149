"""Writer of the whole-account archive: one zip with the JSON, the HTML and every attachment.

Layout, under one top folder (``strongroom-export/`` unless named otherwise)::

    README.txt            what is where
    messages.json         the JSON export; each attachment's "path" names its file below
    index.html            the HTML export: open this in a browser
    style.css, c*.html, calls.html
    attachments/YYYY-MM/  every attachment, once, under its sanitised name

The zip is streamed to any binary stream (an HTTP response included) in constant memory: pages
and members are written one at a time, attachments are copied a chunk at a time, and a stream
that cannot seek gets data descriptors; members that may pass 4 GiB are ZIP64.  The records are
read twice (once for the JSON, once for the pages and files), so they must be re-iterable: a
list, or :class:`~strongroom.messages.export.VaultRecords` (conversation by conversation).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from strongroom.formats.folders import open_zip
from strongroom.formats.html_export import HtmlWriter
from strongroom.formats.json_export import JsonWriter
from strongroom.messages.records import Record

README = """\
Strongroom export
=================

index.html      Your conversations, as web pages: open this file in any browser.
messages.json   Every message and call as JSON (described in Strongroom's docs/json-export.md);
                each attachment's "path" is the file under attachments/.
attachments/    Every attachment, by month, under its original name (made safe for any disk).
"""


class ArchiveWriter:
    """Records as the whole-account zip (see the module documentation)."""

    name = "archive"

    def __init__(
        self,
        *,
        root: str = "strongroom-export",
        title: str = "Messages",
        exported_at_ms: int | None = None,
        page_messages: int = 1000,
    ) -> None:
        self.root = root
        self.title = title
        self.exported_at_ms = exported_at_ms
        self.page_messages = page_messages

    def write(self, records: Iterable[Record], out: BinaryIO) -> None:
        """Write the zip.  Raises TypeError for a one-shot iterator (it is read twice)."""
        if iter(records) is records:
            raise TypeError("the archive reads its records twice: pass a list or VaultRecords")
        with open_zip(out, f"{self.root}/" if self.root else "") as folder:
            with folder.file("README.txt") as f:
                f.write(README.encode())
            with folder.file("messages.json", date_ms=self.exported_at_ms) as f:
                JsonWriter(attachments="paths", exported_at_ms=self.exported_at_ms).write(
                    records, f
                )
            html = HtmlWriter(title=self.title, page_messages=self.page_messages, zip_root="")
            html.write_folder(records, folder)
