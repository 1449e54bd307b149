"""Real servers for tests: the Strongroom app under uvicorn in a thread, on 127.0.0.1 only."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from strongroom.runtime import Runtime
from strongroom.web import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    server: uvicorn.Server


@contextmanager
def start_app_server(runtime: Runtime) -> Iterator[LiveServer]:
    port = free_port()
    config = uvicorn.Config(
        create_app(runtime), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", runtime, server)
    finally:
        server.should_exit = True
        thread.join(15)
