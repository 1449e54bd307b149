"""Writer of the HTML export: a self-contained folder that shows each conversation as the chat.

The folder holds ``index.html`` (every conversation, most recent first), ``style.css``, one or
more pages per conversation (``c<key>.html``, then ``c<key>-2.html``... every
:attr:`HtmlWriter.page_messages` messages, linked to each other), ``calls.html`` when there are
calls, and every attachment under ``attachments/`` (pictures, video and audio shown in place,
other files linked under their real names).  It opens from disk in any browser, with no network
and no JavaScript.

Records should come conversation by conversation (each in date order), which is how
:class:`~strongroom.messages.export.VaultRecords` gives them with ``by_conversation``; a
conversation that comes back later continues on a further page.  One page is written at a time,
through a spool file, so memory holds a page at most (a few MB, then disk) plus one line per
conversation for the index.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import BinaryIO

from strongroom.formats import html_bubbles as h
from strongroom.formats.attachment_names import attachment_path, base_type, is_attachment
from strongroom.formats.conversations import conversation_key, conversation_name, is_group
from strongroom.formats.folders import Folder, open_zip
from strongroom.messages.records import CallRecord, MessageRecord, PartRecord, Record

SPOOL_IN_MEMORY = 4 * 1024 * 1024
_STORED = ("image/", "video/", "audio/", "application/zip")


def is_compressed(content_type: str) -> bool:
    """True for content that deflate would not shrink (so a zip stores it as it is)."""
    kind = base_type(content_type)
    return kind.startswith(_STORED) and kind not in ("image/bmp", "image/svg+xml", "audio/wav")


@dataclass
class _Conversation:
    key: str
    name: str
    participants: list[str]
    group: bool
    messages: int = 0
    first_ms: int = 0
    last_ms: int = 0
    pages: int = 0

    def page_name(self, number: int) -> str:
        return f"{self.key}.html" if number == 1 else f"{self.key}-{number}.html"


@dataclass
class _Page:
    conversation: _Conversation
    number: int
    spool: tempfile.SpooledTemporaryFile[bytes] = field(
        default_factory=lambda: tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY)
    )
    count: int = 0
    day: date | None = None

    def emit(self, text: str) -> None:
        self.spool.write(text.encode("utf-8", "replace"))


class HtmlWriter:
    """Records as a folder of HTML pages (see the module documentation)."""

    name = "html"

    def __init__(
        self,
        *,
        title: str = "Messages",
        tz: tzinfo = UTC,
        zone_name: str = "UTC",
        page_messages: int = 1000,
        attachments_dir: str = "attachments",
        zip_root: str = "messages",
    ) -> None:
        self.title = title
        self.tz = tz
        self.zone_name = zone_name
        self.page_messages = page_messages
        self.attachments_dir = attachments_dir
        self.zip_root = zip_root

    def write(self, records: Iterable[Record], out: BinaryIO) -> None:
        """The folder as a zip (under ``zip_root/``), streamed to ``out``."""
        with open_zip(out, f"{self.zip_root}/" if self.zip_root else "") as folder:
            self.write_folder(records, folder)

    def write_folder(self, records: Iterable[Record], folder: Folder) -> None:
        run = _Run(self, folder)
        try:
            for record in records:
                if isinstance(record, MessageRecord):
                    run.message(record)
                elif isinstance(record, CallRecord):
                    run.call(record)
            run.finish()
        finally:
            run.discard()


class _Run:
    """One export in progress: the page being written and a summary of each conversation."""

    def __init__(self, writer: HtmlWriter, folder: Folder) -> None:
        self.w = writer
        self.folder = folder
        self.conversations: dict[str, _Conversation] = {}
        self.page: _Page | None = None
        self.calls: _Page | None = None

    def message(self, record: MessageRecord) -> None:
        conversation = self._conversation(record)
        page = self.page
        if (
            page is None
            or page.conversation is not conversation
            or page.count >= self.w.page_messages
        ):
            if page is not None:
                self._close(page, more=page.conversation is conversation)
            page = self.page = self._open(conversation)
        moment = datetime.fromtimestamp(record.date_ms / 1000, self.w.tz)
        if moment.date() != page.day:
            page.day = moment.date()
            page.emit(h.day_heading(moment))
        paths: dict[int, str] = {}
        for seq, part in enumerate(record.parts):
            if is_attachment(part):
                paths[seq] = self._attachment(record, seq, part)
        page.emit(
            h.message_html(record, moment, lambda seq, _part: paths[seq], group=conversation.group)
        )
        page.count += 1
        conversation.messages += 1
        conversation.first_ms = min(conversation.first_ms or record.date_ms, record.date_ms)
        conversation.last_ms = max(conversation.last_ms, record.date_ms)

    def _conversation(self, record: MessageRecord) -> _Conversation:
        key = conversation_key(record)
        found = self.conversations.get(key)
        if found is None:
            found = self.conversations[key] = _Conversation(
                key, conversation_name(record), sorted(set(record.participants)), is_group(record)
            )
        return found

    def _attachment(self, record: MessageRecord, seq: int, part: PartRecord) -> str:
        path = attachment_path(record, seq, part, self.w.attachments_dir)
        # The same path means the same message and part: an identical message stored twice
        # in the same millisecond (two "ok"s) shares its attachment file.
        if not self.folder.exists(path):
            with self.folder.file(
                path,
                size=part.content.size,
                date_ms=record.date_ms,
                compress=not is_compressed(part.content_type),
            ) as f:
                for chunk in part.content.chunks():
                    f.write(chunk)
        return path

    def _open(self, conversation: _Conversation) -> _Page:
        conversation.pages += 1
        page = _Page(conversation, conversation.pages)
        people = ", ".join(conversation.participants)
        note = f"{people} \u00b7 times in {self.w.zone_name}"
        page.emit(
            h.page_head(f"{conversation.name} \u2013 {self.w.title}", conversation.name, note, True)
        )
        if page.number > 1:
            page.emit(
                h.page_nav(conversation.page_name(page.number - 1), "\u2190 Earlier messages")
            )
        return page

    def _close(self, page: _Page, *, more: bool) -> None:
        if more:
            page.emit(
                h.page_nav(page.conversation.page_name(page.number + 1), "Later messages \u2192")
            )
        page.emit(h.PAGE_END)
        self._flush(page, page.conversation.page_name(page.number))

    def _flush(self, page: _Page, name: str) -> None:
        page.spool.seek(0)
        with self.folder.file(name) as f:
            shutil.copyfileobj(page.spool, f, 1024 * 1024)
        page.spool.close()

    def call(self, record: CallRecord) -> None:
        if self.calls is None:
            self.calls = _Page(_Conversation("calls", "Calls", [], False), 1)
            self.calls.emit(
                h.page_head(
                    f"Calls \u2013 {self.w.title}", "Calls", f"Times in {self.w.zone_name}", True
                )
            )
            self.calls.emit(
                "<table>\n<tr><th>When</th><th>Type</th><th>Who</th><th>Length</th></tr>\n"
            )
        moment = datetime.fromtimestamp(record.date_ms / 1000, self.w.tz)
        self.calls.emit(h.call_row(record, moment))
        self.calls.count += 1

    def discard(self) -> None:
        """Free the spool files of pages not written (after an error)."""
        for page in (self.page, self.calls):
            if page is not None:
                page.spool.close()

    def finish(self) -> None:
        if self.page is not None:
            self._close(self.page, more=False)
            self.page = None
        if self.calls is not None:
            self.calls.emit("</table>\n" + h.PAGE_END)
            self._flush(self.calls, "calls.html")
        with self.folder.file("style.css") as f:
            f.write(h.STYLE.encode())
        with self.folder.file("index.html") as f:
            f.write(self._index().encode("utf-8", "replace"))

    def _index(self) -> str:
        total = sum(c.messages for c in self.conversations.values())
        note = (
            f"{len(self.conversations)} conversations, {total} messages"
            f" \u00b7 times in {self.w.zone_name}"
        )
        lines = [h.page_head(self.w.title, self.w.title, note, False)]
        if self.calls is not None:
            lines.append(h.page_nav("calls.html", f"Calls ({self.calls.count})"))
        lines.append('<ul class="conversations">\n')
        for c in sorted(self.conversations.values(), key=lambda c: c.last_ms, reverse=True):
            first = datetime.fromtimestamp(c.first_ms / 1000, self.w.tz)
            last = datetime.fromtimestamp(c.last_ms / 1000, self.w.tz)
            people = "" if c.name == ", ".join(c.participants) else ", ".join(c.participants)
            count = "1 message" if c.messages == 1 else f"{c.messages} messages"
            note = " \u00b7 ".join(x for x in (people, count) if x)
            lines.append(
                f'<li><a href="{h.href(c.page_name(1))}"><span class="name">{h.esc(c.name)}</span>'
                f'<br><span class="note">{h.esc(note)}, {first:%Y-%m-%d} to {last:%Y-%m-%d}'
                "</span></a></li>\n"
            )
        lines.append("</ul>\n" + h.PAGE_END)
        return "".join(lines)
