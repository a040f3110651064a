"""The validating proxy: a team points its application at it, and every exchange is judged as it passes.

``create_proxy_app(options)`` returns an ASGI application that forwards each request to the upstream
(by default an embedded reference server, in this process) and hands the upstream's answer back
unchanged, after validating the exchange as ``replay`` does: each exchange on its own, and the rules
across the traffic (a job's status history, what it was created with, a cancel, a walk through the
list) in the order the proxy saw them. A violation is logged in one line, named in the answer's
``x-aec-violations`` header, and kept for the end report; with ``fail_on_violation`` the client gets a
502 problem body instead of the answer. ``record`` writes the session, scrubbed, as a cassette or a
HAR file that ``replay`` reads. Credentials pass through to the upstream and appear nowhere else.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..cassettes import Scrubber
from ..cassettes.record import to_interaction, write_recording
from ..findings import CLIENT, SERVER, Finding, RunReport
from ..http import Exchange, without_userinfo
from ..options import OptionError, PolicyOptions, option
from ..reproduce import Reproducer
from ..server.api import JOB_SECONDS
from ..server.faults import FAULTS
from ..session import Session
from ..spec.api import HEADERS, JSON_MEDIA_TYPE
from ..target import is_http_url, is_loopback, unreachable_cause

__all__ = ["VIOLATIONS_HEADER", "ProxyOptions", "ProxySession", "create_proxy_app"]

#: the header the proxy adds to an answer that breaks the contract: the rule ids, comma-separated
VIOLATIONS_HEADER = "x-aec-violations"
#: largest request body the proxy reads before it answers 413 itself
MAX_BODY = 16 << 20
#: headers that belong to one connection, not to the message (RFC 9110), and what httpx sets itself
_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
                  "host", "content-length", "accept-encoding", "content-encoding"})


@dataclass(frozen=True)
class ProxyOptions(PolicyOptions):
    """What a proxy session does: the flags of ``proxy``."""

    upstream: str | None = option(None, "where requests go (default: an embedded reference server)", metavar="URL")
    host: str = option("127.0.0.1", "the address to listen on")
    port: int = option(8081, "the port to listen on")
    record: str | None = option(None, "write the session, scrubbed, to this cassette (.json, .yaml) or HAR "
                                "file (.har) when the proxy stops", metavar="PATH")
    fail_on_violation: bool = option(False, "answer an exchange that breaks the contract with 502 and its "
                                     "violations, instead of the upstream's answer")
    allow_writes: bool = option(False, "forward requests other than GET to a non-loopback upstream")
    fault: tuple[str, ...] = option((), "with the embedded upstream: inject this fault (repeatable)",
                                    choices=sorted(FAULTS), metavar="NAME")
    job_seconds: float = option(JOB_SECONDS, "with the embedded upstream: how long a job runs, in seconds")

    def check(self) -> None:
        """Raise ``OptionError`` for values no session can use."""
        if self.upstream is not None:
            if not is_http_url(self.upstream):
                raise OptionError(f"upstream {self.upstream[:80]!r} is not an http:// or https:// URL with a host")
            if self.fault:
                raise OptionError("faults are injected into the embedded upstream: leave out upstream")
        if not 0 <= self.port <= 65535:
            raise OptionError(f"a port is 0 to 65535, not {self.port}")
        if not (math.isfinite(self.job_seconds) and self.job_seconds >= 0):
            raise OptionError("job_seconds is a finite number of seconds, not negative")


def _problem(status: int, title: str, detail: str, **more: Any) -> Response:
    body = {"type": f"https://aep-export-contracts.invalid/proxy/{title}", "status": status, "title": title,
            "detail": detail, **more}
    return Response(json.dumps(body), status_code=status, media_type=JSON_MEDIA_TYPE)


@dataclass
class ProxySession:
    """What one proxy run saw: the report, the rules across its traffic and what it will record."""

    options: ProxyOptions
    log: Callable[[str], None] = lambda _line: None  # one line per violation, as it happens
    alert: Callable[[str], None] = lambda _line: None  # one line when the upstream cannot be reached, the first time
    report: RunReport = field(init=False)
    session: Session = field(init=False)  # the judge: both sides, the client's request and the upstream's answer
    interactions: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # every credential seen, so that none leaves the process
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.report = RunReport(without_userinfo(self.options.upstream or "embedded reference server"), 0, self.options.policy(),
                                reproduce=Reproducer([]))
        self.session = Session(self.report, layer="proxy", log=self.log)

    def _learn(self, headers: dict[str, str]) -> None:
        token = headers.get(HEADERS.authorization.lower(), "").removeprefix(HEADERS.bearer_prefix)
        for value in (token, headers.get(HEADERS.api_key.lower(), ""), headers.get(HEADERS.org.lower(), "")):
            if value and len(value) >= 3 and value not in self.secrets:
                self.secrets.append(value)
                assert isinstance(self.report.reproduce, Reproducer)
                self.report.reproduce.secrets.append(value)

    def judge(self, exchange: Exchange) -> list[Finding]:
        """The exchange's findings (on its own and across the traffic), recorded in the report; the failing ones."""
        with self._lock:
            self._learn(dict(exchange.request_headers))
            failing = self.session.see(exchange).failing
            self._keep(exchange)
            return failing

    def unreachable(self, why: str) -> None:
        """The upstream could not be reached: an error of the run (said once), never a pass."""
        with self._lock:
            if self.report.unreachable is None:
                self.report.unreachable = why
                self.alert(why)

    def _keep(self, exchange: Exchange) -> None:
        if self.options.record is not None:
            self.interactions.append(to_interaction(exchange))

    def write_recording(self) -> Path | None:
        """Write the session, scrubbed, where ``record`` says (a cassette, or HAR by the ending)."""
        if self.options.record is None:
            return None
        path = Path(self.options.record)
        first: dict[str, list[str]] = next((i["request"]["headers"] for i in self.interactions), {})

        def one(name: str) -> str:
            return str(first.get(name, [""])[0])

        scrubber = Scrubber(one(HEADERS.authorization.lower()).removeprefix(HEADERS.bearer_prefix),
                            one(HEADERS.api_key.lower()), one(HEADERS.org.lower()), one(HEADERS.sandbox.lower()),
                            extra=list(self.secrets))
        write_recording(path, {"version": 1, "interactions": [scrubber.interaction(item) for item in self.interactions]})
        return path


def _upstream(options: ProxyOptions, app: Any) -> tuple[str, httpx.AsyncBaseTransport | None, Any]:
    """(base URL, transport, the embedded app or None) of the upstream."""
    if options.upstream:
        return options.upstream.rstrip("/"), None, None
    from ..server import IN_PROCESS_URL, ServerConfig, create_app

    app = app or create_app(ServerConfig(faults=frozenset(options.fault), job_seconds=options.job_seconds))
    return IN_PROCESS_URL, httpx.ASGITransport(app=app), app


def create_proxy_app(options: ProxyOptions, session: ProxySession | None = None, *,
                     upstream_app: Any = None) -> Starlette:
    """The proxy as an ASGI application; ``app.state.session`` is its ``ProxySession``. Without an
    upstream URL it runs ``upstream_app`` (an ASGI application; by default a fresh reference server)."""
    options.check()
    session = session or ProxySession(options)
    base, transport, embedded = _upstream(options, upstream_app)
    writes_allowed = options.allow_writes or options.upstream is None or is_loopback(base)
    shown = without_userinfo(base)  # a password in the upstream's URL is never shown
    client = httpx.AsyncClient(base_url=base, transport=transport, timeout=60.0, follow_redirects=False)

    async def forward(request: Request) -> Response:
        method = request.method
        if method not in ("GET", "HEAD") and not writes_allowed:
            return _problem(403, "WritesNotAllowed", f"the proxy forwards only GET to {shown} (a non-loopback "
                            "upstream) unless it runs with --allow-writes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return _problem(413, "PayloadTooLarge", f"the proxy reads bodies of at most {MAX_BODY} bytes")
        headers = {k: v for k, v in request.headers.items() if k not in _HOP}
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            answer = await client.request(method, path, headers=headers, content=body or None)
        except httpx.HTTPError as exc:
            why = f"cannot reach the upstream {shown}: {unreachable_cause(exc)}"
            session.unreachable(why)
            return _problem(502, "UpstreamUnreachable", why)
        content = answer.content
        exchange = Exchange.make(method, f"{shown}{path}", request_headers=dict(request.headers.items()),
                                 request_body=body or None, status=answer.status_code,
                                 response_headers=dict(answer.headers.items()), response_body=content or None)
        failing = session.judge(exchange)
        if failing and options.fail_on_violation:
            sides = sorted({f.side or SERVER for f in failing})
            said = {CLIENT: "the request breaks the contract", SERVER: f"the upstream's answer ({answer.status_code}) "
                    "breaks the contract"}
            return _problem(502, "ContractViolation", "; ".join(said[s] for s in sides), sides=sides,
                            violations=[{"rule": f.rule, "side": f.side, "pointer": f.pointer, "message": f.message}
                                        for f in failing])
        out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
        if failing:
            out_headers[VIOLATIONS_HEADER] = ",".join(dict.fromkeys(f.rule for f in failing))
        return Response(content, status_code=answer.status_code, headers=out_headers)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
    app = Starlette(routes=[Route("/{path:path}", forward, methods=methods)])
    app.state.session = session
    app.state.client = client
    app.state.embedded = embedded
    return app
