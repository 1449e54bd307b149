"""The Python client library: the HTTP API (:class:`Client`) and a device's sync (:class:`Device`).

Never imports server code (an import-linter contract keeps it so).
"""

from __future__ import annotations

from strongroom.client.api import ApiError, Client
from strongroom.client.device import Device, LocalMessage, SyncReport

__all__ = ["ApiError", "Client", "Device", "LocalMessage", "SyncReport"]
