"""Importers and exporters: pure conversion between files and message records.

``READERS`` maps each format's command-line name to its reader; :func:`detect` picks the reader
of a file or folder for ``--format auto``.
"""

from __future__ import annotations

from pathlib import Path

from strongroom.formats.apple import APPLE_READERS
from strongroom.formats.base import BadInput, Reader, ReadOptions

__all__ = ["READERS", "BadInput", "ReadOptions", "Reader", "detect"]

READERS: dict[str, Reader] = {**APPLE_READERS}


def detect(path: Path) -> Reader:
    """The reader whose ``sniff`` recognises ``path``.  Raises BadInput if none does."""
    for reader in READERS.values():
        if reader.sniff(path):
            return reader
    raise BadInput(f"{path.name}: not a format Strongroom can import")
