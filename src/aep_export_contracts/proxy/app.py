"""The validating proxy: a team points its application at it, and every exchange is judged as it passes.

``create_proxy_app(options)`` returns an ASGI application that forwards each request to the upstream
(by default an embedded reference server, in this process) as the client sent it and hands the
upstream's answer back as it came (``upstream.py``: byte for byte, within limits, no state kept
between clients), after validating the exchange as ``replay`` does: each exchange on its own, and the rules
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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..cassettes import Scrubber
from ..cassettes.load import exchange_pointer
from ..cassettes.record import to_interaction, write_recording
from ..findings import CLIENT, SERVER, Finding, RunReport
from ..http import Exchange, without_userinfo
from ..options import RECORDING_SUFFIXES, OptionError, PolicyOptions, option, port, writable_file
from ..reproduce import Reproducer
from ..server.api import JOB_SECONDS
from ..server.faults import FAULTS
from ..session import Session
from ..spec.api import HEADERS, JSON_MEDIA_TYPE
from ..target import is_http_url, is_loopback, unreachable_cause
from .upstream import Answer, AsgiUpstream, Limits, OverLimit, RemoteUpstream, decoded, incoming

__all__ = ["VIOLATIONS_HEADER", "ProxyOptions", "ProxySession", "create_proxy_app"]

#: the header the proxy adds to an answer that breaks the contract: the rule ids, comma-separated (one the
#: upstream sent is dropped: only the proxy speaks through it)
VIOLATIONS_HEADER = "x-aec-violations"


@dataclass(frozen=True)
class ProxyOptions(PolicyOptions):
    """What a proxy session does: the flags of ``proxy``."""

    upstream: str | None = option(None, "where requests go (default: an embedded reference server)", metavar="URL")
    host: str = option("127.0.0.1", "the address to listen on", metavar="ADDRESS")
    port: int = option(8081, "the port to listen on (0: any free port)", metavar="N")
    record: str | None = option(None, "write the session, scrubbed, to this cassette (.json, .yaml) or HAR "
                                "file (.har) when the proxy stops", metavar="PATH")
    fail_on_violation: bool = option(False, "answer an exchange that breaks the contract with 502 and its "
                                     "violations, instead of the upstream's answer")
    allow_writes: bool = option(False, "forward requests other than GET to a non-loopback upstream")
    fault: tuple[str, ...] = option((), "with the embedded upstream: inject this fault (repeatable)",
                                    choices=sorted(FAULTS), metavar="NAME")
    job_seconds: float = option(JOB_SECONDS, "with the embedded upstream: how long a job runs, in seconds",
                                metavar="SECONDS")
    max_body: int = option(16 << 20, "largest request body the proxy reads, in bytes (413 above)", metavar="BYTES")
    body_timeout: float = option(30.0, "longest a client may take to send its request body, in seconds (408 after)",
                                 metavar="SECONDS")
    answer_limit: int = option(32 << 20, "largest upstream answer the proxy reads, in bytes as sent (502 above)",
                               metavar="BYTES")
    decoded_limit: int = option(64 << 20, "largest upstream answer once gzip or deflate is undone, in bytes "
                                "(502 above)", metavar="BYTES")
    connect_timeout: float = option(10.0, "longest wait for a connection to the upstream, in seconds (504 after)",
                                    metavar="SECONDS")
    read_timeout: float = option(30.0, "longest the upstream may stay silent in an answer, in seconds (504 after)",
                                 metavar="SECONDS")
    deadline: float = option(60.0, "longest an upstream exchange may take in all, in seconds (504 after)",
                             metavar="SECONDS")
    connections: int = option(100, "most requests at the upstream at once; others queue", metavar="N")
    queue_timeout: float = option(10.0, "longest a request may queue for a connection, in seconds (503 after)",
                                  metavar="SECONDS")

    def limits(self) -> Limits:
        return Limits(self.answer_limit, self.decoded_limit, self.connect_timeout, self.read_timeout, self.deadline,
                      self.connections, self.queue_timeout)

    def check(self) -> None:
        """Raise ``OptionError`` for values no session can use (every one is checked before the proxy starts)."""
        if self.upstream is not None:
            if not is_http_url(self.upstream):
                raise OptionError(f"upstream {without_userinfo(self.upstream)[:80]!r} is not an http:// or https:// "
                                  "URL with a host")
            if self.fault:
                raise OptionError("faults are injected into the embedded upstream: leave out upstream")
        port("--port", self.port)
        if not (math.isfinite(self.job_seconds) and self.job_seconds >= 0):
            raise OptionError(f"--job-seconds is a finite number of seconds, not negative: {self.job_seconds}")
        for name in ("body_timeout", "connect_timeout", "read_timeout", "deadline", "queue_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise OptionError(f"--{name.replace('_', '-')} is a positive number of seconds, not {value}")
        for name in ("max_body", "answer_limit", "decoded_limit", "connections"):
            if getattr(self, name) < 1:
                raise OptionError(f"--{name.replace('_', '-')} is a positive whole number, not {getattr(self, name)}")
        if self.record is not None:
            writable_file("--record", self.record, RECORDING_SUFFIXES)


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
        self.report = RunReport(without_userinfo(self.options.upstream or "embedded reference server"), None,
                                self.options.policy(), reproduce=Reproducer([]), kind="proxy session")
        self.session = Session(self.report, layer="proxy", log=self.log, drift=True)

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
            failing = self.session.see(exchange, recording=self._where_recorded()).failing
            self._keep(exchange)
            return failing

    def unstable(self, why: str) -> None:
        """A limit stopped an exchange, or an answer could not be judged: said in the report, once each."""
        with self._lock:
            if why not in self.report.unstable:
                self.report.unstable.append(why)

    def internal_error(self, what: str) -> None:
        """Judging an exchange failed (a fault of this tool): logged and kept as an error of the run."""
        with self._lock:
            self.report.errors.append(f"internal error while judging {what}")
            self.alert(f"internal error while judging {what}")

    def unreachable(self, why: str) -> None:
        """The upstream could not be reached: an error of the run (said once), never a pass."""
        with self._lock:
            if self.report.unreachable is None:
                self.report.unreachable = why
                self.alert(why)

    def _where_recorded(self) -> tuple[str, str] | None:
        """Where the exchange being judged will lie in the recording (None when the session is not recorded)."""
        if self.options.record is None:
            return None
        return self.options.record, exchange_pointer(self.options.record, len(self.interactions))

    def _keep(self, exchange: Exchange) -> None:
        if self.options.record is not None:
            self.interactions.append(to_interaction(exchange))

    def write_recording(self) -> Path | None:
        """Write the session, scrubbed, where ``record`` says (a cassette, or HAR by the ending)."""
        if self.options.record is None:
            return None
        path = Path(self.options.record)
        scrubber = Scrubber.of(self.interactions, extra=list(self.secrets))  # what any request carried
        write_recording(path, {"version": 1, "interactions": [scrubber.interaction(item) for item in self.interactions]})
        return path


def _upstream(options: ProxyOptions, app: Any) -> tuple[str, RemoteUpstream | AsgiUpstream, Any]:
    """(the upstream's URL as shown, how to reach it, the embedded app or None)."""
    if options.upstream:
        parts = urlsplit(options.upstream)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        shown = without_userinfo(options.upstream).rstrip("/")  # a password in the URL is never shown
        return shown, RemoteUpstream(scheme, host, port, parts.path, options.limits()), None
    from ..server import IN_PROCESS_URL, ServerConfig, create_app

    app = app or create_app(ServerConfig(faults=frozenset(options.fault), job_seconds=options.job_seconds))
    return IN_PROCESS_URL, AsgiUpstream(app), app


def _text(raw: bytes) -> str:
    return raw.decode("latin-1")


def _exchange(method: str, url: str, request: Request, body: bytes, answer: Answer, content: bytes | None,
              started: float, elapsed: float) -> Exchange:
    """The exchange as the client sent it and the upstream answered (the body decoded for judging)."""
    return Exchange.make(method, url, request_headers={_text(k): _text(v) for k, v in request.headers.raw},
                         request_body=body or None, status=answer.status,
                         response_headers=_joined(answer.headers), response_body=content or None,
                         started=started, elapsed=elapsed)


def _joined(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in headers:
        key = _text(k).lower()
        out[key] = f"{out[key]}, {_text(v)}" if key in out else _text(v)
    return out


def create_proxy_app(options: ProxyOptions, session: ProxySession | None = None, *,
                     upstream_app: Any = None) -> Starlette:
    """The proxy as an ASGI application; ``app.state.session`` is its ``ProxySession``. Without an
    upstream URL it runs ``upstream_app`` (an ASGI application; by default a fresh reference server)."""
    options.check()
    session = session or ProxySession(options)
    shown, upstream, embedded = _upstream(options, upstream_app)
    writes_allowed = options.allow_writes or options.upstream is None or is_loopback(shown)
    verdict = VIOLATIONS_HEADER.encode()

    async def forward(request: Request) -> Response:
        started, clock = time.time(), time.perf_counter()  # the exchange's real start and duration (a HAR shows them)
        method = request.method
        if method not in ("GET", "HEAD") and not writes_allowed:
            return _problem(403, "WritesNotAllowed", f"the proxy forwards only GET to {shown} (a non-loopback "
                            "upstream) unless it runs with --allow-writes")
        body = b""
        try:
            with anyio.fail_after(options.body_timeout):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > options.max_body:
                        return _problem(413, "PayloadTooLarge", f"the proxy reads request bodies of at most "
                                        f"{options.max_body} bytes (--max-body)")
        except TimeoutError:
            return _problem(408, "RequestTimeout", f"the request body took longer than {options.body_timeout:g} s "
                            "(--body-timeout)")
        # the target as the client sent it: the path undecoded, the query as written
        raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
        query = request.scope.get("query_string", b"")
        target = raw_path + (b"?" + query if query else b"")
        try:
            answer = await upstream.send(method, target, list(request.headers.raw), body)
            content = decoded(answer.body, _joined(answer.headers).get("content-encoding", ""), options.decoded_limit)
        except OverLimit as over:
            session.unstable(over.detail)
            return _problem(over.status, over.title, over.detail)
        except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as exc:
            why = f"cannot reach the upstream {shown}: {unreachable_cause(exc)}"
            session.unreachable(why)
            return _problem(502, "UpstreamUnreachable", why)
        failing: list[Finding] = []
        if content is None:
            session.unstable(f"an answer in an encoding the proxy cannot read "
                             f"({_joined(answer.headers).get('content-encoding', '')[:40]}) was passed on, not judged")
        else:
            try:
                failing = session.judge(_exchange(method, f"{shown}{_text(target)}", request, body, answer, content,
                                                  started, time.perf_counter() - clock))
            except Exception as exc:  # the judge's own fault: the client still gets the upstream's answer
                session.internal_error(f"{method} {_text(target)[:120]}: {type(exc).__name__}: {str(exc)[:200]}")
        if failing and options.fail_on_violation:
            sides = sorted({f.side or SERVER for f in failing})
            said = {CLIENT: "the request breaks the contract", SERVER: f"the upstream's answer ({answer.status}) "
                    "breaks the contract"}
            return _problem(502, "ContractViolation", "; ".join(said[s] for s in sides), sides=sides,
                            violations=[{"rule": f.rule, "side": f.side, "pointer": f.pointer, "message": f.message}
                                        for f in failing])
        response = Response(answer.body, status_code=answer.status)
        lines = incoming(answer.headers, drop=lambda name: name == verdict)
        if failing:
            lines.append((verdict, ",".join(dict.fromkeys(f.rule for f in failing)).encode()))
        # the length of the body passed on; a HEAD answer keeps the length the upstream said a GET would send
        length = [(k, v) for k, v in (answer.headers if method == "HEAD" else response.raw_headers)
                  if k.lower() == b"content-length"]
        response.raw_headers = [*lines, *length]
        return response

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
    app = Starlette(routes=[Route("/{path:path}", forward, methods=methods)])
    app.state.session = session
    app.state.upstream = upstream
    app.state.embedded = embedded
    return app
