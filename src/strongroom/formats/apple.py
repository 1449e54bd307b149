"""The readers of Apple sources, as registered under their command-line names."""

from __future__ import annotations

from strongroom.formats.base import Reader
from strongroom.formats.ios_backup import IosBackupReader
from strongroom.formats.messages_db import MessagesDbReader

APPLE_READERS: dict[str, Reader] = {
    IosBackupReader.name: IosBackupReader(),
    MessagesDbReader.name: MessagesDbReader(),
}
"""``ios-backup`` (a Finder/iTunes backup folder) and ``messages-db`` (``sms.db``/``chat.db``)."""
