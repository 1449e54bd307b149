"""Spreading names over folders: ``ns/abcdef...`` is kept at ``ns/ab/cd/abcdef...``.

Two levels of 256 folders keep any one folder small (borgstore's nesting, for the same reason).
"""

from __future__ import annotations

from pathlib import PurePosixPath


def nest(name: str) -> PurePosixPath:
    namespace, ident = name.split("/", 1)
    return PurePosixPath(namespace, ident[:2], ident[2:4], ident)


def unnest(path: PurePosixPath) -> str:
    """The name stored at a nested path (its first and last components)."""
    return f"{path.parts[0]}/{path.parts[-1]}"
