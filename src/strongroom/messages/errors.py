"""Errors of the messages domain."""

from __future__ import annotations

from strongroom.accounts.errors import ServiceOff
from strongroom.errors import InvalidInput

__all__ = ["ConfirmationNeeded", "ServiceOff"]


class ConfirmationNeeded(InvalidInput):
    """Turning the messages service off deletes the cloud copy and must be confirmed."""

    slug = "confirmation-needed"
    title = "Confirmation needed"
