from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.blobs import BlobStore
from tests.blobs.stores import make_store


@pytest.fixture(params=["local", "memory", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    """A fresh, empty store of each backend in turn: a folder, memory, and an S3 bucket."""
    s3_url = s3_endpoint = ""
    if request.param == "s3":
        s3_endpoint = request.getfixturevalue("s3_endpoint")
        s3_url = f"s3://{request.getfixturevalue('s3_bucket')}/strongroom"
    opened = make_store(request.param, tmp_path, s3_url, s3_endpoint)
    yield opened
    opened.close()
