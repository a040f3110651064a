"""The proxy's side towards the upstream: each request forwarded as the client sent it, within limits.

The request target goes out byte for byte (no decoding, no dot-segment resolution, no authority read
from the path), the client's headers as they came (but those of one connection), and nothing is kept
between requests: no cookie jar, no redirects followed, no body decoded on the way. The answer comes
back as the upstream sent it, each header line on its own; it is read within the limits of
``Limits``, and decoded (within its own limit) only to be judged.

A remote upstream is reached through an httpcore connection pool, which takes the target as bytes; the
embedded reference server is called as an ASGI application with the same target.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

import anyio
import httpcore

__all__ = ["HOP_BY_HOP", "Answer", "AsgiUpstream", "Limits", "OverLimit", "RemoteUpstream", "decoded"]

#: headers that belong to one connection, not to the message (RFC 9110, section 7.6.1)
HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer",
                        b"transfer-encoding", b"upgrade", b"proxy-authenticate", b"proxy-authorization"})


@dataclass(frozen=True)
class Limits:
    """How much the proxy reads and how long it waits, each named by the option that sets it."""

    answer_bytes: int  # an upstream answer's body, as sent (compressed or not)
    decoded_bytes: int  # the same body once decoded for judging
    connect_timeout: float  # to open a connection to the upstream
    read_timeout: float  # between two reads of the upstream's answer
    deadline: float  # for the whole upstream exchange: connect, send, the answer's last byte
    connections: int  # open at once to the upstream; more requests queue
    queue_timeout: float  # how long a request may queue for a connection


class OverLimit(Exception):
    """A limit stopped an exchange: the proxy answers ``status`` with a problem naming it."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]  # each line as the upstream sent it, in order
    body: bytes  # as sent: a content-encoding is kept


def _strip_hop(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    named = {token.strip().lower() for k, v in headers if k.lower() == b"connection" for token in v.split(b",")}
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() not in named]


def outgoing(headers: list[tuple[bytes, bytes]], host: bytes, body: bytes) -> list[tuple[bytes, bytes]]:
    """The client's header lines as the upstream gets them: those of one connection left out, Host the
    upstream's, and the length of the body the proxy read."""
    kept = [(k, v) for k, v in _strip_hop(headers) if k.lower() not in (b"host", b"content-length")]
    length = [(b"content-length", str(len(body)).encode())] if body or any(
        k.lower() == b"content-length" for k, _ in headers) else []
    return [(b"host", host), *kept, *length]


def incoming(headers: list[tuple[bytes, bytes]], *, drop: Callable[[bytes], bool]) -> list[tuple[bytes, bytes]]:
    """The upstream's header lines as the client gets them: those of one connection and the length left
    out (the body is sent whole, its length set anew), and any the caller drops."""
    return [(k, v) for k, v in _strip_hop(headers) if k.lower() != b"content-length" and not drop(k.lower())]


class RemoteUpstream:
    """An upstream on the network, through one pool of at most ``limits.connections`` connections."""

    def __init__(self, scheme: str, host: str, port: int, prefix: str, limits: Limits) -> None:
        self.scheme, self.host, self.port, self.limits = scheme.encode(), host.encode(), port, limits
        self.prefix = prefix.rstrip("/").encode()
        default = {b"http": 80, b"https": 443}.get(self.scheme)
        self.authority = self.host if port == default else self.host + b":" + str(port).encode()
        if b":" in self.host:  # an IPv6 literal
            self.authority = b"[" + self.host + b"]" + (b"" if port == default else b":" + str(port).encode())
        self._pool = httpcore.AsyncConnectionPool(max_connections=limits.connections, retries=0,
                                                  keepalive_expiry=5.0)

    async def send(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        limits = self.limits
        url = httpcore.URL(scheme=self.scheme, host=self.host, port=self.port, target=self.prefix + target)
        timeouts = {"connect": limits.connect_timeout, "read": limits.read_timeout, "write": limits.read_timeout,
                    "pool": limits.queue_timeout}
        try:
            with anyio.fail_after(limits.deadline):
                async with self._pool.stream(method.encode(), url, headers=outgoing(headers, self.authority, body),
                                             content=body, extensions={"timeout": timeouts}) as response:
                    chunks, size = [], 0
                    async for chunk in response.aiter_stream():
                        size += len(chunk)
                        if size > limits.answer_bytes:
                            raise OverLimit(502, "AnswerTooLarge", f"the upstream's answer is larger than "
                                            f"{limits.answer_bytes} bytes (--answer-limit)")
                        chunks.append(chunk)
                    return Answer(response.status, list(response.headers), b"".join(chunks))
        except TimeoutError:
            raise OverLimit(504, "UpstreamTimeout", f"the upstream took longer than {limits.deadline:g} s to "
                            "answer in full (--deadline)") from None
        except httpcore.PoolTimeout:
            raise OverLimit(503, "UpstreamBusy", f"all {limits.connections} connections to the upstream stayed "
                            f"busy for {limits.queue_timeout:g} s (--connections, --queue-timeout)") from None
        except httpcore.ConnectTimeout:
            raise OverLimit(504, "UpstreamTimeout", f"no connection to the upstream within "
                            f"{limits.connect_timeout:g} s (--connect-timeout)") from None
        except httpcore.ReadTimeout:
            raise OverLimit(504, "UpstreamTimeout", f"the upstream sent nothing for {limits.read_timeout:g} s "
                            "(--read-timeout)") from None

    async def aclose(self) -> None:
        await self._pool.aclose()


class AsgiUpstream:
    """The embedded reference server, called in this process with the target as the client sent it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def send(self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        raw_path, _, query = target.partition(b"?")
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"),
                 "raw_path": raw_path, "query_string": query, "root_path": "",
                 "headers": outgoing(headers, b"reference.aec.invalid", body),
                 "client": ("127.0.0.1", 0), "server": ("reference.aec.invalid", 80)}
        given = False
        started: dict[str, Any] = {}
        parts: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal given
            if given:
                return {"type": "http.disconnect"}
            given = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return Answer(int(started["status"]), [(bytes(k), bytes(v)) for k, v in started.get("headers", [])],
                      b"".join(parts))

    async def aclose(self) -> None:
        return None


def decoded(body: bytes, encoding: str, limit: int) -> bytes | None:
    """The body with its content-encoding undone, for judging (None for an encoding the proxy cannot
    read); a body that would decode to more than ``limit`` bytes is an ``OverLimit`` (a gzip bomb
    costs no more than the limit)."""
    for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
        if coding == "identity":
            continue
        if coding in ("gzip", "x-gzip"):
            wbits = 16 + zlib.MAX_WBITS
        elif coding == "deflate":
            wbits = zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS  # zlib-wrapped, or raw as some send
        else:
            return None
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, limit + 1)
        except zlib.error:
            return None
        if len(out) > limit or inflater.unconsumed_tail:
            raise OverLimit(502, "AnswerTooLarge", f"the upstream's answer decodes to more than {limit} bytes "
                            "(--decoded-limit)")
        body = out
    return body
