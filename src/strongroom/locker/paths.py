"""The one place where user-supplied locker names and paths are checked (style rule 7).

A locker path is a tuple of names below an account's root: ``("Photos", "2024", "Trip")``,
written ``"Photos/2024/Trip"``; the root is ``()`` (``""`` or ``"/"``).  Every name that comes
from a client, a tus ``Upload-Metadata`` field or the CLI goes through :func:`clean_name` or
:func:`split_path` before it is stored or compared, so the database holds only names that are:

* NFC-normalised (``"e\\u0301"`` and ``"\\u00e9"`` are the same name), not empty and not only
  white space, not ``.`` or ``..``, at most 255 bytes of UTF-8 (what ext4, APFS and NTFS allow);
* free of ``/`` and ``\\`` (separators somewhere), NUL and other control characters, line and
  paragraph separators, and the bidirectional controls that can disguise an extension
  (``"photo\\u202egpj.exe"``).

Names that are legal on phones, macOS and Linux but not on Windows (``CON``, ``a:b``, ``x.``)
are accepted in the locker, because a phone may really have them; :func:`to_local_path` refuses
them only when it writes to a Windows filesystem.  Nothing is silently rewritten except Unicode
normalisation: a refused name raises :class:`~strongroom.locker.errors.BadPath` saying why.

``..`` is refused, never resolved, and a leading ``/`` means the locker root, so no locker path
can name anything outside it.  :func:`to_local_path` adds the checks for the real filesystem the
desktop agent restores into (symlinks and case-insensitive collisions), after Radicale's
``pathutils.path_to_filesystem``.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path, PurePath

from strongroom.locker.errors import BadPath

MAX_NAME_BYTES = 255
"""Longest name, in bytes of UTF-8 (the usual filesystem limit)."""

MAX_PATH_BYTES = 4096
"""Longest locker path, ``/``-joined, in bytes of UTF-8 (Linux's PATH_MAX)."""

LockerPath = tuple[str, ...]
"""Clean names from the locker root down; ``()`` is the root."""

# Bidirectional formatting characters ("Trojan Source", CVE-2021-42574) and the line and
# paragraph separators, none of which is a control character to unicodedata.
_INVISIBLE = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
)
_WINDOWS_FORBIDDEN = frozenset('<>:"|?*')
_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{dev}{n}" for dev in ("COM", "LPT") for n in "0123456789\u00b9\u00b2\u00b3"]
)


def _problem(name: str) -> str | None:
    """Why ``name`` (already NFC) is not a valid locker name, or None."""
    if not name.strip():
        return "a name cannot be empty"
    if name in (".", ".."):
        return f"{name!r} is not a name"
    for ch in name:
        if ch in "/\\":
            return f"a name cannot contain {ch!r}"
        if ch in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cs"):
            return f"a name cannot contain the character U+{ord(ch):04X}"
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        return f"a name can be at most {MAX_NAME_BYTES} bytes of UTF-8, not {size}"
    return None


def clean_name(name: str) -> str:
    """The NFC form of one file or folder name.  Raises BadPath saying what is wrong."""
    normal = unicodedata.normalize("NFC", name)
    problem = _problem(normal)
    if problem is not None:
        raise BadPath(f"{problem}: {name!r}", name=name)
    return normal


def is_clean_name(name: str) -> bool:
    """Whether ``name`` is a valid name already in normal form (what the database may hold)."""
    return unicodedata.is_normalized("NFC", name) and _problem(name) is None


def split_path(path: str) -> LockerPath:
    """``"Photos/2024/Trip"`` -> ``("Photos", "2024", "Trip")``, each name cleaned.

    ``""`` and ``"/"`` are the root; one leading ``/`` (the root) and one trailing ``/`` (a
    folder) are allowed.  Raises BadPath for an empty name (``"a//b"``), ``.`` or ``..``, a
    backslash, or any name :func:`clean_name` refuses.
    """
    inner = path.removeprefix("/").removesuffix("/")
    if not inner:
        return ()
    try:
        parts = tuple(clean_name(part) for part in inner.split("/"))
    except BadPath as e:
        raise BadPath(f"{e.detail} (in the path {path!r})", path=path) from None
    _check_length(parts, path)
    return parts


def join_path(parts: Iterable[str]) -> str:
    """``("Photos", "2024")`` -> ``"Photos/2024"``; the root is ``""``.  Cleans every name."""
    cleaned = tuple(clean_name(part) for part in parts)
    joined = "/".join(cleaned)
    _check_length(cleaned, joined)
    return joined


def split_file_path(path: str) -> tuple[LockerPath, str]:
    """``"Photos/2024/a.jpg"`` -> ``(("Photos", "2024"), "a.jpg")``.

    Raises BadPath for the root or a path ending in ``/`` (a folder, not a file).
    """
    parts = split_path(path)
    if not parts or path.endswith("/"):
        raise BadPath(f"not a file path: {path!r}", path=path)
    return parts[:-1], parts[-1]


def is_within(folder: LockerPath, ancestor: LockerPath) -> bool:
    """Whether ``folder`` is ``ancestor`` or below it (moving a folder into itself is refused)."""
    return folder[: len(ancestor)] == ancestor


def _check_length(parts: LockerPath, shown: str) -> None:
    size = len("/".join(parts).encode("utf-8"))
    if size > MAX_PATH_BYTES:
        raise BadPath(f"a path can be at most {MAX_PATH_BYTES} bytes, not {size}", path=shown)


def windows_problem(name: str) -> str | None:
    """Why Windows could not hold a file called ``name``, or None.

    Windows refuses ``<>:"|?*`` (``:`` would also name a drive or an NTFS stream), device
    names such as ``CON`` or ``com1.txt`` whatever the extension, and a trailing dot or space,
    which it strips silently (so ``a.`` would overwrite ``a``).
    """
    bad = sorted(_WINDOWS_FORBIDDEN.intersection(name))
    if bad:
        return f"Windows does not allow {''.join(bad)!r} in a name"
    if name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        return f"{name!r} is a reserved device name on Windows"
    if name.endswith((".", " ")):
        return "Windows does not allow a name ending in a dot or a space"
    return None


def to_local_path(root: Path, parts: Iterable[str], *, windows: bool | None = None) -> Path:
    """Where the locker path ``parts`` lives under the local folder ``root``.

    Every name is cleaned, and checked against Windows' rules when ``windows`` (by default:
    when running on Windows).  Each existing step below ``root`` must be a real entry spelled
    exactly so: a symlink (which could lead out of ``root``) or a differently-cased or
    differently-normalised existing entry (a case-insensitive filesystem) is refused rather
    than followed or overwritten (the spelling check lists the parent folder, only when the
    entry already exists).  ``root`` itself is trusted and must be absolute.

    Raises BadPath; ValueError for a relative ``root``.
    """
    if not root.is_absolute():
        raise ValueError(f"the restore root must be an absolute path, not {str(root)!r}")
    on_windows = os.name == "nt" if windows is None else windows
    names = tuple(clean_name(part) for part in parts)
    _check_length(names, "/".join(names))
    target = root
    for name in names:
        problem = windows_problem(name) if on_windows else None
        if problem is not None:
            raise BadPath(f"{problem}: {name!r}", name=name)
        parent, target = target, target / name
        _check_step(parent, target, name)
    _check_inside(root, target)
    return target


def _check_step(parent: Path, target: Path, name: str) -> None:
    if target.is_symlink():
        raise BadPath(f"{str(target)!r} is a symbolic link; it is not followed", path=str(target))
    if os.path.lexists(target) and name not in os.listdir(parent):
        raise BadPath(
            f"{name!r} collides with a differently spelled entry in {str(parent)!r}",
            path=str(target),
        )


def _check_inside(root: PurePath, target: PurePath) -> None:
    # Defence in depth: the checks above already make this impossible.
    base = os.path.normpath(root)
    if os.path.commonpath([base, os.path.normpath(target)]) != base:
        raise BadPath(f"{str(target)!r} is outside {str(root)!r}", path=str(target))
