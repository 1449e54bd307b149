"""An S3-compatible server for tests: moto's server in a thread of this process, on 127.0.0.1.

The session fixture ``s3_endpoint`` (in ``tests/conftest.py``) starts one per test process;
``s3_bucket`` gives each test its own fresh bucket and empties the server afterwards.
"""

from __future__ import annotations

import logging
import secrets
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


@contextmanager
def running_s3() -> Iterator[str]:
    """Start moto's S3 server on a free loopback port; yield its URL.  Raises ImportError."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def client(endpoint: str) -> Any:
    """A boto3 S3 client for the test server, with the test credentials."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


def new_bucket(endpoint: str) -> str:
    name = f"sr-test-{secrets.token_hex(6)}"
    s3 = client(endpoint)
    s3.create_bucket(Bucket=name)
    s3.close()
    return name


def reset(endpoint: str) -> None:
    """Forget every bucket and object on the server."""
    request = urllib.request.Request(endpoint + "/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
