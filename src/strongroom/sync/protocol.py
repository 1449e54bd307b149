"""The wire format of message sync (JSON), versioned with the API (``/api/v1``).

Ids and states are strings on the wire: states are opaque to clients; ids are decimal integers
today but clients must not rely on that.  The shapes named in the messages issue are a contract:
fields may be added, never renamed.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

MAX_BATCH = 1000


class PartIn(BaseModel):
    content_type: str = Field(max_length=255, examples=["image/jpeg"])
    filename: str | None = Field(None, max_length=255)
    data_base64: str | None = Field(None, description="The bytes, base64; or use `upload`.")
    upload: str | None = Field(
        None, description="Id of a finished resumable upload holding the bytes (large parts)."
    )


class MessageIn(BaseModel):
    client_id: str = Field(max_length=200, description="The device's own id for the message.")
    kind: str = Field(description="sms, mms, imessage or rcs", examples=["sms"])
    direction: str = Field(description="in or out", examples=["in"])
    sender: str | None = Field(None, max_length=320, description="Who sent it (for `in`).")
    participants: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="Everyone in the conversation except the account owner.",
    )
    date: int = Field(description="When it was received (or sent), UTC milliseconds.")
    date_sent: int | None = None
    date_precision: str = Field(
        "ms", description='"ms", or "s" when the source only knows whole seconds.'
    )
    read: bool = False
    status: str = Field("received", description="received, sent, draft, outbox, failed, queued")
    subject: str | None = Field(None, max_length=10_000)
    body: str = Field("", max_length=1_000_000)
    parts: list[PartIn] = Field(default_factory=list, max_length=100)
    guid: str | None = Field(None, max_length=200, description="The platform's own message id.")
    reply_to: str | None = Field(None, max_length=200, description="guid of the message replied to")
    group_title: str | None = Field(None, max_length=500)


class UploadIn(BaseModel):
    items: list[MessageIn] = Field(max_length=MAX_BATCH)


class Problem(BaseModel):
    code: str
    detail: str


class UploadResult(BaseModel):
    client_id: str | None
    id: str | None
    status: str = Field(description="created, duplicate or rejected")
    problem: Problem | None = None


class UploadOut(BaseModel):
    results: list[UploadResult]
    state: str


class PartOut(BaseModel):
    id: str
    content_type: str
    filename: str | None
    size: int


class ReactionOut(BaseModel):
    reaction: str
    sender: str | None
    date: int


class MessageOut(BaseModel):
    id: str
    conversation_id: str
    kind: str
    direction: str
    sender: str | None
    participants: list[str]
    date: int
    date_sent: int | None
    read: bool
    status: str
    subject: str | None
    body: str
    parts: list[PartOut]
    reactions: list[ReactionOut]
    guid: str | None
    reply_to: str | None
    source: str


class ChangesOut(BaseModel):
    old_state: str
    new_state: str
    has_more: bool
    created: list[str]
    updated: list[str]
    destroyed: list[str]
    expired: list[str]


class GetIn(BaseModel):
    ids: list[str] = Field(max_length=1000)


class GetOut(BaseModel):
    messages: list[MessageOut]
    not_found: list[str]


class ReadPatch(BaseModel):
    read: bool


class SetIn(BaseModel):
    update: dict[str, ReadPatch] = Field(default_factory=dict, max_length=1000)
    destroy: list[str] = Field(default_factory=list, max_length=1000)


class SetOut(BaseModel):
    updated: list[str]
    destroyed: list[str]
    not_updated: dict[str, Problem]
    not_destroyed: dict[str, Problem]


class AllIdsOut(BaseModel):
    ids: list[str]
    state: str = Field(description="Pull changes from this state once every page is read.")
    cursor: str | None


class ConversationOut(BaseModel):
    id: str
    participants: list[str]
    title: str | None
    last_message_at: int | None
    snippet: str
    unread_count: int
    message_count: int


class ConversationsOut(BaseModel):
    conversations: list[ConversationOut]
    cursor: str | None


class MessagesPage(BaseModel):
    messages: list[MessageOut]
    cursor: str | None


class SearchHit(BaseModel):
    message: MessageOut
    snippet: str = Field(description="The matching passage, plain text.")
    snippet_html: str = Field(description="The same, HTML-escaped, matches in <mark>.")


class SearchOut(BaseModel):
    results: list[SearchHit]
    cursor: str | None
