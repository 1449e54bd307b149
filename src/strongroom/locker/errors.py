"""Errors of the locker domain.

::

    InvalidInput
    ├── BadPath             a file or folder name or path we refuse (paths.py)
    └── MediaUnreadable     an image or video that cannot be decoded (photos.py, video.py)
    PayloadTooLarge
    └── ImageTooLarge       an image whose declared size is a decompression bomb (photos.py)
"""

from __future__ import annotations

from strongroom.errors import InvalidInput, PayloadTooLarge


class BadPath(InvalidInput):
    """A file or folder name, or a folder path, that is empty, too long, contains a separator
    or control character, is ``.``/``..``, or would leave its root."""

    slug = "bad-path"
    title = "File or folder name not accepted"


class MediaUnreadable(InvalidInput):
    """An image or video is truncated, corrupt or in a format we cannot decode; the message names
    the file and what the decoder said."""

    slug = "media-unreadable"
    title = "The picture or video cannot be read"


class ImageTooLarge(PayloadTooLarge):
    """An image declares more pixels than we decode (Pillow's ``MAX_IMAGE_PIXELS``), which is how
    a decompression bomb looks; nothing was decoded."""

    slug = "image-too-large"
    title = "The picture is too large to process"
