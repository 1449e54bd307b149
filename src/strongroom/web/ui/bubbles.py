"""Messages as a chat shows them: bubbles on the sender's side, day separators, group senders'
names, attachments sorted into pictures, videos, audio and downloads, and people's numbers
written the way they are read in the account's own country."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import phonenumbers
from markupsafe import Markup, escape

from strongroom.errors import InvalidInput
from strongroom.messages import search as search_mod
from strongroom.messages.service import ConversationView, MessageView, PartView

_HIDDEN_PARTS = ("text/plain", "application/smil")
"""MMS text parts are already the message body; SMIL only lays out the slides."""

_REACTIONS = {
    "love": "❤️",
    "like": "👍",
    "dislike": "👎",
    "laugh": "😂",
    "emphasize": "‼️",
    "question": "❓",
}

_RUN_GAP_MS = 5 * 60_000

_STATUS = {
    "sent": ("Sent", "sent"),
    "received": ("Sent", "sent"),
    "failed": ("Not sent", "failed"),
    "outbox": ("Sending", "pending"),
    "queued": ("Sending", "pending"),
    "draft": ("Draft", "pending"),
}


@dataclass(frozen=True)
class Names:
    """Shows handles as people read them: national format for numbers of the account's region."""

    region: str

    def person(self, handle: str | None) -> str:
        if not handle:
            return "Unknown sender"
        if not handle.startswith("+"):
            return handle
        try:
            number = phonenumbers.parse(handle, None)
        except phonenumbers.NumberParseException:
            return handle
        style = (
            phonenumbers.PhoneNumberFormat.NATIONAL
            if phonenumbers.region_code_for_number(number) == self.region
            else phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        return phonenumbers.format_number(number, style)

    def conversation(self, title: str | None, participants: list[str]) -> str:
        if title:
            return title
        if not participants:
            return "No participants"
        return ", ".join(self.person(p) for p in participants)


def avatar(title: str | None, participants: list[str], key: int) -> dict[str, str]:
    """What the round picture of a conversation shows: initials of a titled group, or an icon."""
    colour = f"av{key % 6}"
    words = [w for w in re.split(r"\W+", title or "") if w]
    if words:
        return {"colour": colour, "initials": "".join(w[0] for w in words[:2]).upper()}
    return {"colour": colour, "icon": "group" if len(participants) > 1 else "person"}


def conversation_item(c: ConversationView, names: Names) -> dict[str, object]:
    return {
        "id": c.id,
        "name": names.conversation(c.title, c.participants),
        "avatar": avatar(c.title, c.participants, c.id),
        "snippet": c.snippet,
        "unread": c.unread_count,
        "last": c.last_message_at,
        "group": len(c.participants) > 1,
    }


@dataclass(frozen=True)
class Attachment:
    id: int
    kind: str
    """image, video, audio or file."""
    name: str
    size: int
    content_type: str

    @property
    def url(self) -> str:
        return f"/api/v1/messages/parts/{self.id}"


def attachments(parts: list[PartView]) -> list[Attachment]:
    found = []
    for n, part in enumerate(parts):
        ctype = part.content_type.split(";", 1)[0].strip().lower()
        if ctype in _HIDDEN_PARTS:
            continue
        major = ctype.split("/", 1)[0]
        kind = (
            major if major in ("image", "video", "audio") and ctype != "image/svg+xml" else "file"
        )
        name = part.filename or f"attachment-{n + 1}"
        found.append(Attachment(part.id, kind, name, part.size, ctype))
    return found


@dataclass
class Bubble:
    id: int
    side: str
    """in (received, on the left) or out (sent, on the right)."""
    date: int
    text: Markup
    subject: str | None
    read: bool
    attachments: list[Attachment]
    reactions: list[tuple[str, int]]
    status: tuple[str, str] | None
    who: str
    """Who sent it, for alt text: "you" or the sender's name."""
    sender: str | None = None
    """Shown above the first bubble of a run in a group chat."""
    day: str | None = None
    """The ISO date, when this bubble starts a new day."""
    hit: bool = False
    tail: bool = True
    """The last of a run (same side and sender, minutes apart): only tails show their time."""
    media: list[Attachment] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)


def highlight(text: str, query: str | None) -> Markup:
    """The text, escaped, with the query's words in ``<mark>``."""
    if not query:
        return escape(text)
    try:
        words = search_mod.terms(query)
    except InvalidInput:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out = Markup()
    last = 0
    for match in pattern.finditer(text):
        out += escape(text[last : match.start()]) + Markup("<mark>%s</mark>") % match.group(0)
        last = match.end()
    return out + escape(text[last:])


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def bubble(v: MessageView, names: Names, *, hit: bool, query: str | None) -> Bubble:
    """One message as a bubble, on its own (:func:`bubbles` adds days, senders and runs)."""
    found = attachments(v.parts)
    counts: dict[str, int] = {}
    for r in v.reactions:
        mark = _REACTIONS.get(r.reaction, r.reaction)
        counts[mark] = counts.get(mark, 0) + 1
    return Bubble(
        id=v.id,
        side="out" if v.direction == "out" else "in",
        date=v.date,
        text=highlight(v.body, query if hit else None),
        subject=v.subject,
        read=v.read,
        attachments=found,
        reactions=sorted(counts.items()),
        status=_STATUS.get(v.status) if v.direction == "out" else None,
        who="you" if v.direction == "out" else names.person(v.sender),
        hit=hit,
        media=[a for a in found if a.kind in ("image", "video")],
        files=[a for a in found if a.kind in ("audio", "file")],
    )


def bubbles(
    views: list[MessageView],
    names: Names,
    *,
    group: bool,
    hit: int | None = None,
    query: str | None = None,
) -> list[Bubble]:
    """Bubbles for messages given oldest first: a day separator starts each day (and each
    fragment), a group's incoming runs are headed by the sender's name, and only the last
    bubble of a run shows its time."""
    out: list[Bubble] = []
    previous: Bubble | None = None
    previous_sender: str | None = None
    for v in views:
        b = bubble(v, names, hit=v.id == hit, query=query)
        day = _day(v.date)
        if previous is None or _day(previous.date) != day:
            b.day = day
        new_run = previous is None or b.day is not None or previous.side != b.side
        if group and b.side == "in" and (new_run or previous_sender != v.sender):
            b.sender = names.person(v.sender)
        if previous is not None and not new_run and b.sender is None:
            previous.tail = b.date - previous.date > _RUN_GAP_MS
        out.append(b)
        previous, previous_sender = b, v.sender
    return out
