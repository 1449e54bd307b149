"""The one exception base and the cross-domain kinds every front end knows how to show.

::

    StrongroomError                 anything Strongroom raises on purpose
    ├── InvalidInput                the caller sent something we cannot accept
    ├── NotAuthenticated            no or bad credentials
    ├── PermissionDenied            authenticated, but not allowed
    ├── NotFound                    nothing of that id *in the caller's account*
    ├── Conflict                    the request clashes with what is stored
    ├── Gone                        it existed, or could be computed, but no longer
    ├── PayloadTooLarge             a body or upload beyond a limit
    ├── QuotaExceeded               the account's storage would overflow
    ├── RateLimited                 too many attempts; try again later
    └── ServiceUnavailable          a dependency (disk, database, key) is not usable

Domains subclass the kind that fits (``accounts.errors.UsernameTaken(Conflict)``) and give the
subclass its own ``slug``, the stable problem type clients may branch on.  The web layer
(``web/errors.py``) maps the kind to an HTTP status; the CLI (``cli/__init__.py``) maps it to a
message and ``exit_code``.  Domain code never knows either.
"""

from __future__ import annotations

from typing import Any, ClassVar


class StrongroomError(Exception):
    """Base of every error raised on purpose; its message is safe to show to the caller."""

    slug: ClassVar[str] = "error"
    title: ClassVar[str] = "Something went wrong"
    exit_code: ClassVar[int] = 1

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class InvalidInput(StrongroomError):
    """The request or file is malformed or breaks a rule (a bad name, a weak password...)."""

    slug = "invalid-input"
    title = "The input is not valid"
    exit_code = 2


class NotAuthenticated(StrongroomError):
    """Credentials are missing, wrong, expired or revoked."""

    slug = "not-authenticated"
    title = "Authentication required"
    exit_code = 3


class PermissionDenied(StrongroomError):
    """The caller is known but may not do this (signup closed, account on hold...)."""

    slug = "permission-denied"
    title = "Not allowed"
    exit_code = 3


class NotFound(StrongroomError):
    """Nothing with that id exists in the caller's account (another account's ids look the same)."""

    slug = "not-found"
    title = "Not found"
    exit_code = 4


class Conflict(StrongroomError):
    """The request clashes with stored state (a name already taken, a stale version)."""

    slug = "conflict"
    title = "Conflict"
    exit_code = 5


class Gone(StrongroomError):
    """What was asked for existed once but no longer does (expired link, compacted history)."""

    slug = "gone"
    title = "No longer available"
    exit_code = 4


class PayloadTooLarge(StrongroomError):
    """A request body, file or field is beyond its size limit."""

    slug = "payload-too-large"
    title = "Too large"
    exit_code = 2


class QuotaExceeded(StrongroomError):
    """Storing this would take the account beyond its quota; nothing was stored."""

    slug = "quota-exceeded"
    title = "Storage quota exceeded"
    exit_code = 6


class RateLimited(StrongroomError):
    """Too many attempts in a short time; ``retry_after`` (seconds) says when to try again."""

    slug = "rate-limited"
    title = "Too many attempts"
    exit_code = 7

    def __init__(self, detail: str | None = None, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after


class ServiceUnavailable(StrongroomError):
    """A part the server depends on (master key, blob store, database) is missing or broken."""

    slug = "service-unavailable"
    title = "Service unavailable"
    exit_code = 8
