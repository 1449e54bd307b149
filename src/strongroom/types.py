"""Type aliases shared across the package."""

from __future__ import annotations

from typing import NewType

AccountId = NewType("AccountId", int)
"""Primary key of an account row."""

Millis = int
"""A point in time as UTC milliseconds since the Unix epoch; every stored time uses it."""

BlobId = NewType("BlobId", str)
"""Lowercase hex keyed hash naming one stored blob within an account's namespace."""
