"""Errors of the messages domain."""

from __future__ import annotations

from strongroom.errors import InvalidInput, PermissionDenied


class ServiceOff(PermissionDenied):
    """The account has not turned the messages service on (or turned it off)."""

    slug = "messages-service-off"
    title = "The messages service is off"


class ConfirmationNeeded(InvalidInput):
    """Turning the messages service off deletes the cloud copy and must be confirmed."""

    slug = "confirmation-needed"
    title = "Confirmation needed"
