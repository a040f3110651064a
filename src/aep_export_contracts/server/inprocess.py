"""The reference server in this process, for synchronous clients: no port, no socket.

httpx's ``ASGITransport`` serves an ASGI application to an ``httpx.AsyncClient``. The check and
most users' tests are synchronous, so ``InProcessTransport`` runs the application on an event loop
in a thread of its own (an anyio blocking portal) and hands each request across.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio.from_thread
import httpx

from .api import ServerConfig
from .asgi import create_app

__all__ = ["InProcessTransport", "in_process_client"]

#: the base URL in-process clients use; nothing resolves it, nothing listens on it
IN_PROCESS_URL = "http://reference.aec.invalid"


class InProcessTransport(httpx.BaseTransport):
    """A synchronous httpx transport to an ASGI application running in this process."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        # a transport nobody closed stops its event loop when collected, or at exit, before teardown
        self._finalizer = weakref.finalize(self, self._portal_cm.__exit__, None, None, None)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            response = await self._asgi.handle_async_request(request)
            return response.status_code, response.headers.raw, await response.aread()

        status, headers, content = self._portal.call(call)
        # a stream, not content: the client reads it as it would from a socket (and so sets .elapsed)
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content), request=request)

    def close(self) -> None:
        self._finalizer()  # runs once, however often close is called


@contextmanager
def in_process_client(config: ServerConfig | None = None, **options: Any) -> Iterator[httpx.Client]:
    """An httpx client wired to a fresh reference server in this process (``client.app``: the application)."""
    app = create_app(config, **options)
    transport = InProcessTransport(app)
    client = httpx.Client(base_url=IN_PROCESS_URL, transport=transport)
    client.app = app  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        client.close()
        app.state.api.close()
