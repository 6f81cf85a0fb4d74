"""The viewer served on a free loopback port from a thread: for benchmarks, screenshots and browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from inrzoo.viewer.app import create_app
from inrzoo.viewer.kinds import Viewed


@contextmanager
def served(viewed: Viewed) -> Iterator[str]:
    """Within the block, ``viewed`` is served by uvicorn at the URL it yields (127.0.0.1, a free port)."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(viewed), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError(f"the viewer did not start on 127.0.0.1:{port}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
