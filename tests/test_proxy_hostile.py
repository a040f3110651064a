"""The proxy between hostile peers, on loopback: an upstream that sets cookies, sends too much, a gzip
bomb, trickles or hangs, spoofs the verdict header or a malformed link; clients that send slowly,
half-close, or write paths meant to be rewritten. Every limit is set small, so the file runs in
seconds; no assertion reads a clock (the peers' own timeouts are safety nets far beyond the limits)."""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aep_export_contracts.options import OptionError, make
from aep_export_contracts.proxy import VIOLATIONS_HEADER, ProxyOptions, ProxySession, create_proxy_app
from aep_export_contracts.server.app import ThreadedServer

HEADERS = {"Authorization": "Bearer t0ken-of-client-a", "x-api-key": "k", "x-gw-ims-org-id": "A@AdobeOrg",
           "x-sandbox-name": "dev"}
JOBS = "/data/core/ups/export/jobs"
LIST = {"records": [], "page": {"sortField": "createdTime", "sort": "desc", "pageOffset": "", "pageSize": 50},
        "link": {"next": ""}}


class _Upstream(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.heads: list[bytes] = []  # every request head, as it arrived
        self.release = threading.Event()  # lets hanging answers go at the end

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _answer(status: int, body: bytes, *extra: str) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Content-Type: application/json", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class _Handler(socketserver.BaseRequestHandler):
    server: _Upstream

    def handle(self) -> None:
        conn = self.request
        conn.settimeout(60)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        self.server.heads.append(head)
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(rest) < length:
            rest += conn.recv(65536)
        target = head.split(b" ")[1]
        asked = [line.split(b":", 1)[1].strip() for line in head.split(b"\r\n") if line.lower().startswith(b"x-answer:")]
        name = asked[0] if asked else target.rsplit(b"/", 1)[-1].split(b"?")[0]
        with contextlib.suppress(OSError):  # the proxy may hang up first: that is what some tests make it do
            self._serve(conn, name)

    def _serve(self, conn: socket.socket, name: bytes) -> None:
        if name == b"cookies":
            conn.sendall(_answer(200, json.dumps(LIST).encode(), "Set-Cookie: a=1; Path=/",
                                 "Set-Cookie: b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/"))
        elif name == b"big":
            size = 5 << 20
            conn.sendall(f"HTTP/1.1 200 X\r\nContent-Length: {size}\r\nContent-Type: application/json\r\n\r\n".encode())
            for _ in range(size // 65536):
                conn.sendall(b" " * 65536)
        elif name == b"bomb":
            conn.sendall(_answer(200, gzip.compress(b"\0" * (50 << 20), compresslevel=9), "Content-Encoding: gzip"))
        elif name == b"gzipped":
            conn.sendall(_answer(200, gzip.compress(json.dumps(LIST).encode()), "Content-Encoding: gzip"))
        elif name == b"trickle":
            conn.sendall(b"HTTP/1.1 200 X\r\nContent-Length: 1000\r\nContent-Type: application/json\r\n\r\n")
            for _ in range(1000):
                if self.server.release.wait(0.1):
                    return
                conn.sendall(b" ")
        elif name == b"hang":
            self.server.release.wait(60)
        elif name == b"spoof":
            conn.sendall(_answer(200, json.dumps(LIST).encode(), f"{VIOLATIONS_HEADER}: AEC999"))
        elif name == b"badnext":
            page = {**LIST, "link": {"next": "http://[::1/x?offset=1_1"}}
            conn.sendall(_answer(200, json.dumps(page).encode()))
        else:
            conn.sendall(_answer(200, json.dumps(LIST).encode()))


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


SMALL = {"answer_limit": 1 << 20, "decoded_limit": 1 << 20, "read_timeout": 30.0, "deadline": 1.0,
         "connections": 2, "queue_timeout": 0.5, "body_timeout": 1.0}


def _proxy(upstream: _Upstream, **options: Any) -> tuple[ThreadedServer, ProxySession]:
    opts = make(ProxyOptions, {"upstream": upstream.url, **SMALL, **options})
    session = ProxySession(opts)
    return ThreadedServer(create_proxy_app(opts, session)).start(), session


@pytest.fixture
def proxy(upstream: _Upstream) -> Iterator[tuple[str, ProxySession]]:
    served, session = _proxy(upstream)
    try:
        yield served.url, session
    finally:
        upstream.release.set()
        served.stop()


def _raw(url: str, data: bytes, *, half_close: bool = False) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=60) as conn:
        conn.sendall(data)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def _get(target: str, *extra: str) -> bytes:
    lines = [f"GET {target} HTTP/1.1", "Host: x", *(f"{k}: {v}" for k, v in HEADERS.items()), *extra,
             "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_no_cookie_jar_and_each_set_cookie_line_as_sent(upstream: _Upstream, proxy: tuple[str, Any]) -> None:
    url, _ = proxy
    answer = httpx.get(f"{url}{JOBS}/cookies", headers=HEADERS, timeout=60)
    assert answer.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/"]
    other = {**HEADERS, "Authorization": "Bearer t0ken-of-client-b"}
    assert httpx.get(f"{url}{JOBS}", headers=other, timeout=60).status_code == 200
    last = upstream.heads[-1].lower()
    assert b"t0ken-of-client-b" in last and b"cookie" not in last
    # a client's own Cookie passes untouched
    httpx.get(f"{url}{JOBS}", headers={**other, "Cookie": "mine=1"}, timeout=60)
    assert b"\r\ncookie: mine=1" in upstream.heads[-1].lower()


def test_an_answer_over_the_limit_is_a_502_naming_it(proxy: tuple[str, ProxySession]) -> None:
    url, session = proxy
    answer = httpx.get(f"{url}{JOBS}/big", headers=HEADERS, timeout=60)
    assert answer.status_code == 502 and answer.json()["title"] == "AnswerTooLarge"
    assert "--answer-limit" in answer.json()["detail"]
    assert any("--answer-limit" in line for line in session.report.unstable)


def test_a_gzip_bomb_is_a_502_naming_the_decoded_limit(proxy: tuple[str, ProxySession]) -> None:
    url, _ = proxy
    answer = httpx.get(f"{url}{JOBS}/bomb", headers={**HEADERS, "Accept-Encoding": "gzip"}, timeout=60)
    assert answer.status_code == 502 and "--decoded-limit" in answer.json()["detail"]


def test_a_compressed_answer_is_passed_on_as_sent_and_judged_decoded(upstream: _Upstream,
                                                                    proxy: tuple[str, ProxySession]) -> None:
    url, session = proxy
    answer = _raw(url, _get(f"{JOBS}/gzipped", "Accept-Encoding: gzip"))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"content-encoding: gzip" in head.lower()
    assert json.loads(gzip.decompress(body)) == LIST
    assert b"accept-encoding: gzip" in upstream.heads[-1].lower()  # forwarded as the client sent it
    assert session.report.exchanges == 1 and session.report.unstable == []


def test_a_trickling_upstream_meets_the_deadline(proxy: tuple[str, ProxySession]) -> None:
    url, _ = proxy
    answer = httpx.get(f"{url}{JOBS}/trickle", headers=HEADERS, timeout=60)
    assert answer.status_code == 504 and "--deadline" in answer.json()["detail"]


def test_a_hanging_upstream_does_not_starve_other_clients(upstream: _Upstream) -> None:
    served, _ = _proxy(upstream, deadline=60.0)
    try:
        hanging = [threading.Thread(target=httpx.get, args=(f"{served.url}{JOBS}/hang",),
                                    kwargs={"headers": HEADERS, "timeout": 90}, daemon=True) for _ in range(2)]
        for thread in hanging:
            thread.start()
        while len(upstream.heads) < 2:  # both connections taken
            time.sleep(0.01)
        answer = httpx.get(f"{served.url}{JOBS}", headers=HEADERS, timeout=60)
        assert answer.status_code == 503 and answer.json()["title"] == "UpstreamBusy", answer.text
        assert "--queue-timeout" in answer.json()["detail"]
    finally:
        upstream.release.set()
        served.stop()


def test_a_slow_request_body_is_408_naming_the_limit(proxy: tuple[str, ProxySession]) -> None:
    url, _ = proxy
    host, port = url.removeprefix("http://").rsplit(":", 1)
    head = (f"POST {JOBS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items()) + "\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=60) as conn:
        conn.sendall(head)
        answer = b""
        for _ in range(200):  # a byte every 0.1 s; the proxy gives up after 1 s
            try:
                conn.sendall(b" ")
            except OSError:
                break
            conn.settimeout(0.1)
            try:
                answer += conn.recv(65536)
            except TimeoutError:
                continue
            if b"--body-timeout" in answer:
                break
    assert answer.startswith(b"HTTP/1.1 408") and b"--body-timeout" in answer, answer[:300]


def test_a_client_that_half_closes_gets_its_answer(upstream: _Upstream, proxy: tuple[str, ProxySession]) -> None:
    url, _ = proxy
    body = json.dumps({"destination": {"datasetId": "d"}, "schema": {"name": "_xdm.context.profile"}}).encode()
    request = (f"POST {JOBS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items()) + "\r\n").encode() + body
    answer = _raw(url, request, half_close=True)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert upstream.heads[-1].startswith(f"POST {JOBS} ".encode())


@pytest.mark.parametrize("target", [
    f"{JOBS}/1%2F..%2F..%2F..%2Fsecret", f"{JOBS}/../../secret", f"{JOBS}/%2e%2e/x", f"{JOBS}/1%23frag",
    "//127.0.0.2:18902/canary-netpath", f"{JOBS}?status=NEW&x=%20a+b",
])
def test_the_request_target_is_forwarded_and_judged_as_sent(target: str, upstream: _Upstream,
                                                            proxy: tuple[str, ProxySession]) -> None:
    url, session = proxy
    answer = _raw(url, _get(target))
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert upstream.heads[-1].split(b"\r\n")[0] == f"GET {target} HTTP/1.1".encode()
    judged = [r.name for r in session.report.results]
    assert judged == [] or target.split("?")[0] in judged[-1], judged


def test_a_malformed_link_next_gets_the_upstreams_answer(proxy: tuple[str, ProxySession]) -> None:
    url, session = proxy
    answer = httpx.get(f"{url}{JOBS}/badnext", headers=HEADERS, timeout=60)
    assert answer.status_code == 200 and answer.json()["link"]["next"] == "http://[::1/x?offset=1_1"
    assert session.report.exchanges == 1


def test_an_upstreams_own_verdict_header_is_dropped(proxy: tuple[str, ProxySession]) -> None:
    url, _ = proxy
    spoofed = httpx.get(f"{url}{JOBS}", headers={**HEADERS, "x-answer": "spoof"}, timeout=60)
    assert spoofed.status_code == 200 and spoofed.json() == LIST  # a clean page: the proxy found nothing
    assert VIOLATIONS_HEADER not in spoofed.headers


def test_a_judge_that_fails_is_an_error_of_the_run_not_a_500(proxy: tuple[str, ProxySession],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    url, session = proxy

    class Broken:
        """The proxy's session, whose judging raises (a compiled class's method cannot be patched in place)."""

        def __init__(self, real: Any) -> None:
            self._real = real

        def see(self, *_: Any, **__: Any) -> Any:
            raise RuntimeError("the judge broke")

        def __getattr__(self, name: str) -> Any:
            return getattr(self._real, name)

    monkeypatch.setattr(session, "session", Broken(session.session))
    answer = httpx.get(f"{url}{JOBS}", headers=HEADERS, timeout=60)
    assert answer.status_code == 200 and answer.json() == LIST
    assert session.report.errors and "the judge broke" in session.report.errors[0]


def test_userinfo_in_the_upstream_is_shown_nowhere(upstream: _Upstream) -> None:
    port = upstream.server_address[1]
    options = make(ProxyOptions, {"upstream": f"http://svcuser:S3cretPW@127.0.0.1:{port}", **SMALL})
    session = ProxySession(options)
    served = ThreadedServer(create_proxy_app(options, session)).start()
    try:
        assert httpx.get(f"{served.url}{JOBS}", headers=HEADERS, timeout=60).status_code == 200
        assert b"S3cretPW" not in upstream.heads[-1] and b"svcuser" not in upstream.heads[-1]
    finally:
        served.stop()
    assert "S3cretPW" not in session.report.to_json() and "S3cretPW" not in session.report.target
    dead = make(ProxyOptions, {"upstream": "http://svcuser:S3cretPW@127.0.0.1:1", **SMALL})
    dead_session = ProxySession(dead)
    served = ThreadedServer(create_proxy_app(dead, dead_session)).start()
    try:
        answer = httpx.get(f"{served.url}{JOBS}", headers=HEADERS, timeout=60)
    finally:
        served.stop()
    assert answer.status_code == 502 and "S3cretPW" not in answer.text
    assert "S3cretPW" not in str(dead_session.report.unreachable)


@pytest.mark.parametrize(("options", "says"), [
    ({"record": "."}, "is a folder"), ({"record": "/nonexistent-aec/dir/x.json"}, "does not exist"),
    ({"job_seconds": -1}, "--job-seconds"), ({"deadline": 0}, "--deadline"), ({"answer_limit": 0}, "--answer-limit"),
    ({"connections": 0}, "--connections"), ({"queue_timeout": float("nan")}, "--queue-timeout"),
    ({"port": 99999}, "--port"),
])
def test_every_option_is_checked_before_the_proxy_starts(options: dict[str, Any], says: str) -> None:
    with pytest.raises(OptionError, match=says):
        make(ProxyOptions, options).check()
