"""The pieces of the HTML export's pages: page frames, chat bubbles, and the style sheet.

Everything that comes from a message (bodies, names, handles, file names, content types) goes
through :func:`esc`; links only ever point at paths the writer built with
:func:`~strongroom.formats.attachment_names.attachment_path`.  Pages carry a
Content-Security-Policy that forbids scripts, plugins and forms, as a second line of defence.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from strongroom.formats.attachment_names import base_type, is_attachment
from strongroom.formats.text_export import human_size
from strongroom.messages.records import CallRecord, MessageRecord, PartRecord

TEXT_SHOWN = 256 * 1024
"""Text parts up to this size are shown when a message has no body of its own."""

INLINE_IMAGES = frozenset(
    {"image/jpeg", "image/jpg", "image/png", "image/gif", "image/webp", "image/bmp", "image/avif"}
)
INLINE_VIDEO = frozenset({"video/mp4", "video/webm", "video/ogg", "video/quicktime"})
INLINE_AUDIO = frozenset(
    {"audio/mpeg", "audio/mp3", "audio/mp4", "audio/aac", "audio/ogg", "audio/wav", "audio/webm"}
)
REACTIONS = {
    "love": "\u2764\ufe0f",
    "like": "\U0001f44d",
    "dislike": "\U0001f44e",
    "laugh": "\U0001f602",
    "emphasize": "\u203c\ufe0f",
    "question": "\u2753",
}
POLICY = (
    "default-src 'none'; img-src 'self' file:; media-src 'self' file:; style-src 'self' file:; "
    "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
)

STYLE = """\
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  background: #f2f2f7; color: #111; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd;
  padding: .6em 1em; }
header h1 { margin: .2em 0; font-size: 1.2em; }
header p, .note { margin: 0; color: #666; font-size: .85em; }
main { max-width: 46em; margin: 0 auto; padding: 1em; }
nav.pages { text-align: center; margin: 1em; }
h2.day { text-align: center; color: #888; font-size: .8em; font-weight: 600; margin: 1.5em 0 .5em; }
.msg { display: flex; flex-direction: column; margin: .25em 0; }
.msg.in { align-items: flex-start; }
.msg.out { align-items: flex-end; }
.from { margin: .4em .8em 0; font-size: .75em; color: #666; }
.bubble { max-width: 75%; padding: .45em .8em; border-radius: 1.1em; background: #e5e5ea;
  overflow-wrap: anywhere; }
.out .bubble { background: #0a84ff; color: #fff; }
.out .bubble a { color: #fff; }
.failed .bubble, .draft .bubble { opacity: .6; }
.text { white-space: pre-wrap; margin: 0; }
.subject { font-weight: 600; margin: 0 0 .2em; }
.media img, .media video { display: block; max-width: 100%; max-height: 24em;
  border-radius: .7em; margin: .2em 0; }
.file { margin: .2em 0; }
.meta, .reactions { margin: .1em .8em; font-size: .72em; color: #888; }
table { border-collapse: collapse; width: 100%; background: #fff; }
td, th { padding: .4em .6em; border-bottom: 1px solid #eee; text-align: left; }
ul.conversations { list-style: none; padding: 0; margin: 0; background: #fff; border-radius: .6em; }
ul.conversations li { border-bottom: 1px solid #eee; }
ul.conversations a { display: block; padding: .7em 1em; color: inherit; text-decoration: none; }
ul.conversations a:hover { background: #f6f6f6; }
.name { font-weight: 600; }
"""


def esc(text: str) -> str:
    """Text for HTML content or a quoted attribute value."""
    return html.escape(text, quote=True)


def href(path: str) -> str:
    """A link to a file of the export (a path we built), percent-encoded and escaped."""
    return esc(quote(path, safe="/"))


def page_head(title: str, heading: str, note: str, back: bool) -> str:
    link = '<p><a href="index.html">&larr; All conversations</a></p>' if back else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n"
        '<link rel="stylesheet" href="style.css">\n</head>\n<body>\n'
        f"<header>{link}<h1>{esc(heading)}</h1><p>{esc(note)}</p></header>\n<main>\n"
    )


def page_nav(path: str, label: str) -> str:
    return f'<nav class="pages"><a href="{href(path)}">{esc(label)}</a></nav>\n'


PAGE_END = "</main>\n</body>\n</html>\n"


def day_heading(moment: datetime) -> str:
    return f'<h2 class="day">{esc(f"{moment:%A} {moment.day} {moment:%B %Y}")}</h2>\n'


def message_html(
    record: MessageRecord,
    moment: datetime,
    path_of: Callable[[int, PartRecord], str],
    *,
    group: bool,
) -> str:
    """One message as a bubble; ``path_of(seq, part)`` is where each attachment's file is."""
    side = "out" if record.direction == "out" else "in"
    html_parts = [f'<article class="msg {side} {esc(record.status)}">']
    if group and side == "in":
        html_parts.append(f'<p class="from">{esc(record.sender or "?")}</p>')
    html_parts.append('<div class="bubble">')
    if record.subject:
        html_parts.append(f'<p class="subject">{esc(record.subject)}</p>')
    for seq, part in enumerate(record.parts):
        if is_attachment(part):
            html_parts.append(attachment_html(part, path_of(seq, part)))
    text = record.body or _text_parts(record)
    if text:
        html_parts.append(f'<p class="text">{esc(text)}</p>')
    html_parts.append("</div>")
    when = moment.isoformat(timespec="seconds")
    meta = f'<time datetime="{esc(when)}">{moment:%H:%M}</time>'
    if record.status not in ("received", "sent"):
        meta += f" &middot; {esc(record.status)}"
    html_parts.append(f'<p class="meta">{meta}</p>')
    reactions = [
        f"{esc(REACTIONS.get(r.reaction, r.reaction))} {esc(r.sender or 'me')}"
        for r in record.reactions
        if not r.removed
    ]
    if reactions:
        html_parts.append(f'<p class="reactions">{" &middot; ".join(reactions)}</p>')
    html_parts.append("</article>\n")
    return "".join(html_parts)


def attachment_html(part: PartRecord, path: str) -> str:
    kind = base_type(part.content_type)
    name = part.filename or path.rsplit("/", 1)[-1]
    link = href(path)
    if kind in INLINE_IMAGES:
        return (
            f'<figure class="media"><a href="{link}"><img src="{link}" alt="{esc(name)}" '
            'loading="lazy"></a></figure>'
        )
    if kind in INLINE_VIDEO:
        return (
            f'<figure class="media"><video controls preload="metadata" src="{link}">'
            "</video></figure>"
        )
    if kind in INLINE_AUDIO:
        return (
            f'<figure class="media"><audio controls preload="none" src="{link}"></audio></figure>'
        )
    size = human_size(part.content.size)
    return (
        f'<p class="file">&#128206; <a href="{link}" download="{esc(name)}">{esc(name)}</a> '
        f'<span class="note">({esc(kind)}, {esc(size)})</span></p>'
    )


def _text_parts(record: MessageRecord) -> str:
    """The text parts of a message that has no body (shown instead of one)."""
    texts = []
    for part in record.parts:
        if base_type(part.content_type) == "text/plain" and part.content.size <= TEXT_SHOWN:
            texts.append(part.content.read().decode("utf-8", "replace"))
    return "\n".join(texts)


def call_row(record: CallRecord, moment: datetime) -> str:
    who = f"{record.name} ({record.number})" if record.name else record.number
    minutes, seconds = divmod(record.duration_s, 60)
    return (
        f"<tr><td>{esc(f'{moment:%Y-%m-%d %H:%M}')}</td><td>{esc(record.type)}</td>"
        f"<td>{esc(who)}</td><td>{minutes}:{seconds:02d}</td></tr>\n"
    )
