"""Errors of the accounts domain."""

from __future__ import annotations

from strongroom.errors import Conflict, InvalidInput, NotAuthenticated, PermissionDenied


class UsernameTaken(Conflict):
    """Sign-up or ``user create`` with a user ID that already exists."""

    slug = "username-taken"
    title = "That user ID is taken"


class WeakPassword(InvalidInput):
    """A new password breaks the length rules."""

    slug = "weak-password"
    title = "Password not accepted"


class BadUsername(InvalidInput):
    """A user ID with characters or a length we do not accept."""

    slug = "bad-username"
    title = "User ID not accepted"


class BadCredentials(NotAuthenticated):
    """Wrong user ID or password (which one is never said)."""

    slug = "bad-credentials"
    title = "Wrong user ID or password"


class AccountOnHold(PermissionDenied):
    """The account was cancelled and is held until purge; only reactivation is possible."""

    slug = "account-on-hold"
    title = "This account is cancelled"


class SignupClosed(PermissionDenied):
    """Open sign-up is turned off; an operator creates accounts with the CLI."""

    slug = "signup-closed"
    title = "Sign-up is closed"


class ServiceOff(PermissionDenied):
    """The account has not turned the messages service on (or turned it off)."""

    slug = "messages-service-off"
    title = "The messages service is off"
