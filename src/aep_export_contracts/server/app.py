"""The reference server on a socket: the ASGI application served by uvicorn in a thread of its own.

uvicorn's HTTP/1.1 (h11) reads chunked bodies, refuses conflicting or malformed Content-Length
headers and HTTP/0.9 lines with a 400, and closes a kept-alive connection idle for
``idle_timeout`` seconds. It has no deadline for a request's head, so a client that opens a
connection and then sends nothing, or a byte at a time, would hold it forever: the protocol here
closes a connection whose request head is not complete within ``read_timeout`` seconds.

A client that shuts its sending side after a whole request (a half-close) still gets its answer;
uvicorn alone would close the connection at once. A connection closed while the client is still
sending a body (a 413 answered from the head, a 408) lingers: the answer is sent and the sending
side shut, and what the client still sends is read and dropped until it stops or ``read_timeout``
passes. Closed at once, the unread bytes would make the
kernel reset the connection, and a client that writes its whole body before it reads would see the
reset instead of the answer.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .api import ReferenceApi, ServerConfig
from .asgi import create_app

__all__ = ["ReferenceServer", "ThreadedServer", "running_server"]


class _Lingering:
    """The socket's transport as uvicorn sees it: a close while the client's body is still arriving
    shuts the sending side and lets the protocol drop what follows (see the module's text)."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport, self._protocol = transport, protocol

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self._protocol.lingering or self._transport.is_closing()

    def close(self) -> None:
        protocol, transport = self._protocol, self._transport
        if protocol.lingering or transport.is_closing() or protocol.conn.their_state is not h11.SEND_BODY \
                or not transport.can_write_eof():
            transport.close()
            return
        protocol.lingering = True
        transport.write_eof()  # the answer goes out whole, then the end of what the server sends
        transport.resume_reading()
        protocol.loop.call_later(protocol.head_timeout, transport.close)


class _Protocol(H11Protocol):
    """h11 with a deadline for each request's head (set per server by ``_protocol``) and a lingering close."""

    head_timeout = 30.0
    _head_timer: asyncio.TimerHandle | None = None
    lingering = False  # the answer is out; the rest of the client's body is read and dropped

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_Lingering(transport, self))  # type: ignore[arg-type]
        self._await_head()

    half_closed = False  # the client shut its sending side with a request in flight: answer, then close

    def data_received(self, data: bytes) -> None:
        if not self.lingering:  # lingering: dropped, until the client's end (eof_received) closes
            super().data_received(data)

    def eof_received(self) -> bool | None:  # type: ignore[override]
        """The client will send nothing more. A request it sent whole is still answered (the connection
        stays open for the answer, then closes); otherwise the connection closes now (uvicorn's way)."""
        if self.cycle is not None and not self.cycle.response_complete and not self.lingering:
            self.half_closed = True
            return True
        return None

    def _await_head(self) -> None:
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._stop_head_timer()  # a request is under way: its body has a deadline of its own

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.half_closed:
            self.transport.close()
        elif not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)


def _protocol(head_timeout: float) -> type[_Protocol]:
    return type("ReferenceProtocol", (_Protocol,), {"head_timeout": head_timeout})


def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
    """The server thread's body. The kernel hands a signal sent to the process to any thread that does not
    block it, and Python only notes it there: the main thread, asleep until Ctrl-C or SIGTERM, would sleep on.
    This thread, and every thread it starts (their mask is inherited), blocks both, so they reach the main one."""
    if hasattr(signal, "pthread_sigmask"):  # not on Windows, which has no such delivery
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    server.run(sockets=[sock])


class ThreadedServer:
    """An ASGI application on a socket, served by uvicorn in a daemon thread (``start()`` / ``stop()``)."""

    GRACE = 5.0  # seconds a request in flight has to finish once stop() is called

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, *, read_timeout: float = 30.0,
                 idle_timeout: float = 5.0) -> None:
        self.app, self.host, self.port = app, host, port
        self.read_timeout, self.idle_timeout = read_timeout, idle_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        assert self._socket is not None, "server not started"
        host, port = self._socket.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> ThreadedServer:
        """Listen (an ``OSError`` if the address cannot be had) and serve in a daemon thread."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            # accepted connections inherit it: uvicorn writes a response's head and body apart, and with
            # Nagle's algorithm on, a keep-alive client's delayed ACK held every answer by about 40 ms
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.bind((self.host, self.port))
            sock.listen(1024)
        except OSError:
            sock.close()
            raise
        self._socket = sock
        server = uvicorn.Server(uvicorn.Config(
            self.app, http=_protocol(self.read_timeout), ws="none", lifespan="off", log_config=None,
            access_log=False,  # no request log: headers carry secrets
            timeout_keep_alive=self.idle_timeout,  # type: ignore[arg-type]  # a float works; typed as int
            server_header=False, date_header=False,
            # on stop, a request still in flight (a client sending its body slowly) gets this long, then is
            # cancelled: the thread ends within stop()'s wait, and the session is not judged while it is written
            timeout_graceful_shutdown=self.GRACE))  # type: ignore[arg-type]  # as above
        self._server = server
        self._thread = threading.Thread(target=_serve, args=(server, sock), name="aec-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60  # a busy machine may take a while; a server that never starts is an error
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise OSError(f"the server did not start on {self.host}:{self.port}")
            time.sleep(0.001)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=60)  # GRACE bounds the stop; this bound only guards against a hang
            self._server = self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None


class ReferenceServer:
    """The Export Jobs API on loopback. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self, config: ServerConfig | None = None, **options: Any) -> None:
        self.app = create_app(config, **options)
        self.api: ReferenceApi = self.app.state.api
        self.config: ServerConfig = self.api.config
        self.store = self.api.store
        self._served = ThreadedServer(self.app, self.config.host, self.config.port,
                                      read_timeout=self.config.read_timeout, idle_timeout=self.config.idle_timeout)

    @property
    def url(self) -> str:
        return self._served.url

    def start(self) -> ReferenceServer:
        """Listen (an ``OSError`` if the address cannot be had) and serve in a daemon thread."""
        self._served.start()
        return self

    def stop(self) -> None:
        self._served.stop()
        self.api.close()

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def has(self, fault: str) -> bool:
        return self.api.has(fault)


@contextmanager
def running_server(**options: Any) -> Iterator[ReferenceServer]:
    """Start a reference server on a free loopback port for the duration of a ``with`` block."""
    server = ReferenceServer(ServerConfig(**options))
    server.start()
    try:
        yield server
    finally:
        server.stop()
