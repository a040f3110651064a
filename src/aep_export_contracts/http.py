"""The HTTP exchange model: one request and its response, as recorded, sent or parsed from curl.

No validation happens here. Findings point into an exchange document::

    {"request": {"method", "path", "query", "headers", "body"},
     "response": {"status", "headers", "body"}}
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, parse_qs, parse_qsl, urlsplit

from .findings import Finding
from .spec.api import HEADERS, Operation

__all__ = ["HISTORY", "Exchange", "ExchangeView", "Headers", "Seen", "TrafficView", "from_curl", "query_pairs",
           "query_value", "scope_of", "split_url", "without_userinfo"]


class Headers(dict[str, str]):
    """Header names folded to lower case."""

    @classmethod
    def of(cls, headers: Mapping[str, Any] | None) -> Headers:
        if isinstance(headers, Headers):
            return headers
        out = cls()  # (filled in place: no dict made first and copied)
        if headers:
            for k, v in headers.items():
                # a header sent once, as vcrpy records it (a one-item list of text), takes the short way
                out[(k if k.__class__ is str else str(k)).lower()] = \
                    v[0] if v.__class__ is list and len(v) == 1 and v[0].__class__ is str else _header_value(v)
        return out


def _header_value(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def split_url(url: str) -> SplitResult:
    """``urlsplit``, for any text: a URL whose host cannot be read (``http://[::1/x``) keeps its path and
    query, with no scheme or host, instead of raising."""
    if url[:1] == "/" and url[1:2] != "/" and "\t" not in url and "\r" not in url and "\n" not in url:
        # a path (a request's target, a relative link): no scheme, no host, nothing for urlsplit to remove
        rest, _, fragment = url.partition("#")
        path, _, query = rest.partition("?")
        return SplitResult("", "", path, query, fragment)
    return _split(url)


@lru_cache(maxsize=4096)
def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError:  # a malformed host ("http://[::1/..."): no host can be read, so the path is unknown
        _, _, rest = url.partition("://")
        path, _, query = rest.partition("?")
        return SplitResult("", "", "/" + path if path and not path.startswith("/") else path, query, "")


def query_value(query: str, name: str) -> str | None:
    """The first non-empty value of ``name`` in a query string, decoded, as ``parse_qs`` reads it (None: none)."""
    if "%" in query or "+" in query:  # something to decode: parse_qs does it
        found = parse_qs(query).get(name)
        return found[0] if found else None
    for pair in query.split("&"):  # nothing to decode: the pairs as they are, blank values left out
        key, sep, value = pair.partition("=")
        if key == name and sep and value:
            return value
    return None


def without_userinfo(url: str) -> str:
    """The URL without the user name and password it may carry (``http://user:pw@host`` → ``http://host``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{tail}"


@dataclass
class Exchange:
    """One request and (optionally) its response. Bodies are bytes, text or parsed JSON values."""

    method: str
    url: str
    request_headers: Headers = field(default_factory=Headers)
    request_body: Any = None
    status: int | None = None
    response_headers: Headers = field(default_factory=Headers)
    response_body: Any = None
    name: str | None = None
    started: float | None = None  # when the request began, in seconds since the epoch (where it was seen)
    elapsed: float | None = None  # seconds from the request's start to the whole answer
    #: the URL ``path`` was last read from, and that path (every layer reads it: it is split once per URL)
    _path_of: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def make(cls, method: str, url: str, *, request_headers: Mapping[str, Any] | None = None,
             request_body: Any = None, status: int | None = None,
             response_headers: Mapping[str, Any] | None = None, response_body: Any = None,
             name: str | None = None, started: float | None = None, elapsed: float | None = None) -> Exchange:
        return cls(method.upper(), url, Headers.of(request_headers), request_body, status,
                   Headers.of(response_headers), response_body, name, started, elapsed)

    @property
    def path(self) -> str:
        known = self._path_of
        if known is None or known[0] is not self.url:
            known = self._path_of = (self.url, split_url(self.url).path)
        return known[1]

    @property
    def query(self) -> list[tuple[str, str]]:
        """The query's (name, value) pairs, in order, blank values kept."""
        return list(query_pairs(self.url))


@lru_cache(maxsize=1024)  # several rules read one exchange's query
def query_pairs(url: str) -> tuple[tuple[str, str], ...]:
    return tuple(parse_qsl(split_url(url).query, keep_blank_values=True))


@dataclass
class ExchangeView:
    """What exchange rules read: the exchange, its operation, its parsed bodies and what the engine
    found in them.

    ``operation`` is None only for the rules that speak of an exchange no operation matches (they
    name ``NO_OPERATION``); ``candidates`` are the operations whose path matches, any method.
    """

    exchange: Exchange
    operation: Operation | None
    request: Any = None
    response: Any = None
    response_ok: bool = False  # a response body is present and passes its contract's schema
    candidates: tuple[Operation, ...] = ()
    request_present: bool = False
    response_present: bool = False
    documented: bool = False  # the answer's status code is one the operation documents
    response_contract: str | None = None  # the contract of the documented answer's body
    #: the error-level findings of the request body, or what works them out when a rule first asks (a source
    #: that tests the server alone has no use for the client's findings but what a rule reads of them)
    _request_errors: tuple[Finding, ...] | Callable[[], tuple[Finding, ...]] = field(default=(), repr=False)

    @property
    def matched(self) -> Operation:
        """The operation the exchange matched, for a rule that speaks of the API's operations (every rule but
        those of ``NO_OPERATION``, which never see one)."""
        op = self.operation
        if op is None:
            raise LookupError(f"{self.exchange.method} {self.exchange.path} matches no operation of the API")
        return op

    @property
    def request_body_errors(self) -> tuple[Finding, ...]:
        """The error-level findings of the request body."""
        errors = self._request_errors
        if not isinstance(errors, tuple):
            errors = self._request_errors = errors()
        return errors

    @property
    def request_ok(self) -> bool:
        """A request body is present and breaks no error-level rule."""
        return self.request_present and not self.request_body_errors

    @property
    def rejected(self) -> bool:
        """The server refused the request (4xx)."""
        return self.exchange.status is not None and 400 <= self.exchange.status < 500

    @property
    def succeeded(self) -> bool:
        return self.exchange.status is not None and 200 <= self.exchange.status < 300


@dataclass(frozen=True)
class Seen:
    """One exchange of a stream of traffic, as a rule across exchanges reads it."""

    exchange: Exchange
    operation_id: str | None  # None: no operation of the API
    request: Any  # the parsed bodies
    response: Any

    @property
    def scope(self) -> tuple[str, str]:
        """(org, sandbox) the request was sent for: resources of one scope are invisible from another."""
        return scope_of(self.exchange.request_headers)


def scope_of(headers: Mapping[str, str]) -> tuple[str, str]:
    """(org, sandbox) a request with these (folded) headers was sent for: a job's id is unique within them,
    and resources of one scope are invisible from another."""
    return headers.get(HEADERS.org.lower(), ""), headers.get(HEADERS.sandbox.lower(), "")


@dataclass(frozen=True)
class TrafficView:
    """What a rule across exchanges (``scope="traffic"``) reads: the exchange just seen and the traffic
    before it, oldest first, as the session that judges the stream keeps it (its most recent
    ``HISTORY`` exchanges). A finding points into the current exchange."""

    current: Seen
    history: Sequence[Seen]


#: how many earlier exchanges a session keeps for the rules across exchanges that users write
HISTORY = 10_000


def _first_command(text: str) -> str:
    """The first shell command of ``text``: an unquoted newline not escaped by a backslash ends it."""
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(text):
                out.append(ch)
                i += 1
                ch = text[i]
        elif ch in "'\"":
            quote = ch
        elif ch == "\\" and i + 1 < len(text) and text[i + 1] == "\n":
            i += 2
            out.append(" ")
            continue
        elif ch == "\n" and "".join(out).strip():
            break
        out.append(ch)
        i += 1
    return "".join(out).strip()


def from_curl(text: str, *, status: int | None = None, response_body: Any = None,
              response_headers: Mapping[str, Any] | None = None, name: str | None = None) -> Exchange:
    """Build an exchange from a curl command as a shell would run it.

    Only the first command counts: a line that does not end in a backslash ends the command, so a
    header on the next line is never sent (as a shell would treat it).
    """
    command = _first_command(text)
    if not command:
        raise ValueError("no curl command in the text")
    words = shlex.split(command)
    if not words or words[0] != "curl":
        raise ValueError("the text does not start with a curl command")
    method, url, headers, body, explicit = "GET", "", {}, None, False
    i = 1
    while i < len(words):
        word = words[i]
        if word in ("-X", "--request"):
            method, explicit = words[i + 1], True
            i += 2
        elif word in ("-H", "--header"):
            key, _, value = words[i + 1].partition(":")
            headers[key.strip()] = value.strip()
            i += 2
        elif word in ("-d", "--data", "--data-raw", "--data-binary"):
            body = words[i + 1]
            if not explicit:
                method = "POST"
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            url = word
            i += 1
    return Exchange.make(method, url, request_headers=headers, request_body=body, status=status,
                         response_headers=response_headers, response_body=response_body, name=name)
