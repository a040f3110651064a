"""The reference server as an ASGI application on Starlette.

``create_app`` returns the application: mount it in a user's own tests through httpx's ASGI
transport (or ``inprocess.InProcessTransport`` for synchronous clients), or serve it on a socket
(``app.ReferenceServer``, with uvicorn). Starlette routes the API's paths and reads and writes
requests and responses; ``api.ReferenceApi`` decides every answer.

At the edges: a path the API does not serve is 404 JSON; a method it does not serve on a path is
405 JSON with ``Allow`` (HEAD is answered where GET is); a body is read as a stream, chunked or not,
and one over ``max_body`` is answered 413 as soon as that is known (from the head when it announces its
length), while the server goes on reading and dropping what the client sends, so that a client that
writes its whole body before it reads sees the 413 (one waiting on ``Expect: 100-continue`` gets it
and the connection closes); a body that takes longer than ``read_timeout`` is a 408.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..spec.api import HEADERS, JSON_MEDIA_TYPE
from .api import ReferenceApi, Reply, ServerConfig, gateway, service_error

__all__ = ["create_app"]

class _Closing(Reply):
    """A reply after which the connection cannot be reused (the body was not read to its end)."""


async def _read_body(request: Request, config: ServerConfig) -> bytes:
    limit = config.max_body
    declared = request.headers.get("content-length")
    too_large = service_error(413, "PayloadTooLarge", f"the body is larger than {limit} bytes")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        if "100-continue" in request.headers.get("expect", "").lower():
            # the client waits for a go-ahead it will not get: it sends no body, the connection closes
            raise _Closing(too_large.status, too_large.body)
        # known from the head: answered at once (uvicorn reads and drops what the client still sends,
        # so a client that writes its whole body before it reads sees the 413, not a reset)
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(config.read_timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large  # answered as soon as it is known; the rest is dropped as it arrives
                chunks.append(chunk)
    except TimeoutError:
        late = service_error(408, "RequestTimeout", f"the body took longer than {config.read_timeout:g} s")
        raise _Closing(late.status, late.body) from None
    return b"".join(chunks)


def _response(reply: Reply, method: str) -> Response:
    headers = dict(reply.headers)
    media_type = headers.pop(HEADERS.content_type, JSON_MEDIA_TYPE)
    if reply.status == 204 or reply.body is None:
        payload = b""
    elif isinstance(reply.body, bytes):
        payload = reply.body
    else:
        payload = json.dumps(reply.body).encode()
    if isinstance(reply, _Closing):
        headers["Connection"] = "close"
    response = Response(payload, status_code=reply.status, headers=headers,
                        media_type=media_type if payload else None)
    if method == "HEAD":  # the length GET would send, and no body
        response.body = b""
    return response


class _Endpoint:
    """One route's ASGI endpoint, for every method (the API answers 405 itself, with its Allow)."""

    def __init__(self, api: ReferenceApi, name: str) -> None:
        self.api, self.name = api, name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        method = request.method
        try:
            raw = await _read_body(request, self.api.config)
            param = next(iter(request.path_params.values()), "")
            reply = self.api.handle(self.name, method, param, request.url.query, dict(request.headers.items()), raw)
        except Reply as r:
            reply = r
        except Exception:  # a bug of the server, never the client's mistake: answer, do not crash
            reply = service_error(500, "InternalServerError", "unexpected server error")
        await _response(reply, method)(scope, receive, send)


def create_app(config: ServerConfig | None = None, **options: Any) -> Starlette:
    """The reference server as an ASGI application (same options as ``serve``; ``config`` or keywords).

    ``app.state.api`` is its ``ReferenceApi`` (the store, the clock, the faults); close it with
    ``app.state.api.close()`` when a long-lived process is done with the application.
    """
    api = ReferenceApi(config or ServerConfig(**options))

    routes = []
    for name, template, _ in ReferenceApi.ROUTES:
        for path in (template, template + "/"):  # a trailing slash is the same resource (no redirect)
            routes.append(Route(path, _Endpoint(api, name)))

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        reply = gateway(404, "404000", "Not found") if status == 404 else \
            service_error(status, "Error", str(getattr(exc, "detail", "")))
        return _response(reply, request.method)

    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found})
    app.router.redirect_slashes = False
    app.state.api = api
    return app
