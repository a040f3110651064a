"""A whole HTTP exchange (request and response) and its validation against the API description.

The operation is found in ``openapi/`` by method and path; its documented status codes, required
headers and body contracts come from there. Findings point into an exchange document::

    {"request": {"method", "path", "query", "headers", "body"},
     "response": {"status", "headers", "body"}}
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

from ..findings import DEFAULT_POLICY, Finding, Policy, Report
from ..rules import all_rules
from ..rules import exchange as X
from ..spec.contracts import openapi_document
from .payload import findings as payload_findings
from .payload import parse_json

__all__ = ["Exchange", "Operation", "find_operation", "from_curl", "validate_exchange"]

_ABSENT: Any = object()


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    responses: Mapping[str, Any]
    request_contract: str | None
    required_headers: tuple[str, ...]

    def response_contract(self, status: int) -> tuple[bool, str | None]:
        """(documented?, contract of the body or None when no body is documented)."""
        return _response(self, status)[:2]

    def required_response_headers(self, status: int) -> list[str]:
        return list(_response(self, status)[2])


_RESPONSES: dict[tuple[str, str, int], tuple[bool, str | None, tuple[str, ...]]] = {}


def _response(op: Operation, status: int) -> tuple[bool, str | None, tuple[str, ...]]:
    """(documented?, body contract, required headers) of one answer, read from the description once."""
    key = (op.operation_id, op.template, status)
    known = _RESPONSES.get(key)
    if known is None:
        spec = op.responses.get(str(status))
        if spec is None:
            known = (False, None, ())
        else:
            spec = _deref(spec)
            content = spec.get("content", {}).get("application/json")
            headers = tuple(name for name, h in spec.get("headers", {}).items() if h.get("required"))
            known = (True, _contract_of(content["schema"]) if content else None, headers)
        _RESPONSES[key] = known
    return known


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = openapi_document()
        for part in ref[2:].split("/"):
            target = target[part]
        return dict(target)
    return node


def _contract_of(schema_node: dict[str, Any]) -> str | None:
    ref = schema_node.get("$ref", "")
    if ref.startswith("../contracts/"):
        return str(ref[len("../contracts/"):].removesuffix(".json"))
    return None


@cache
def operations() -> tuple[Operation, ...]:
    doc = openapi_document()
    ops: list[Operation] = []
    for template, item in doc["paths"].items():
        regex = re.escape(template)
        regex = re.sub(r"\\\{[^}]+\\\}", r"([^/]+)", regex)
        pattern = re.compile(rf"(?:.*?){regex}/?")
        for method in ("get", "post", "put", "patch", "delete"):
            spec = item.get(method)
            if spec is None:
                continue
            body = spec.get("requestBody", {}).get("content", {}).get("application/json")
            headers = ["authorization", "x-api-key", "x-gw-ims-org-id", "x-sandbox-name"]
            for p in spec.get("parameters", []):
                p = _deref(p)
                if p.get("in") == "header" and p.get("required"):
                    headers.append(p["name"].lower())
            ops.append(Operation(spec["operationId"], method.upper(), template, pattern, spec["responses"],
                                 _contract_of(body["schema"]) if body else None, tuple(headers)))
    return tuple(ops)


def _path_matches(op: Operation, path: str) -> re.Match[str] | None:
    return op.pattern.fullmatch(path)


def find_operation(method: str, path: str) -> tuple[Operation | None, list[Operation]]:
    """The operation for method and path, and every operation whose path matches (any method)."""
    op, candidates = _find(method.upper(), path)
    return op, list(candidates)


@lru_cache(maxsize=4096)
def _find(method: str, path: str) -> tuple[Operation | None, tuple[Operation, ...]]:
    path = urlsplit(path).path or path
    candidates = [op for op in operations() if _path_matches(op, path)]
    # the most specific template wins (a job id path over the collection)
    candidates.sort(key=lambda op: -len(op.template))
    if candidates:
        best_template = candidates[0].template
        candidates = [op for op in candidates if op.template == best_template]
    for op in candidates:
        if op.method == method:
            return op, tuple(candidates)
    return None, tuple(candidates)


class Headers(dict[str, str]):
    """Header names folded to lower case."""

    @classmethod
    def of(cls, headers: Mapping[str, Any] | None) -> Headers:
        if isinstance(headers, Headers):
            return headers
        # a header sent once, as vcrpy records it (a one-item list of text), takes the short way
        return cls({(k if k.__class__ is str else str(k)).lower():
                    v[0] if v.__class__ is list and len(v) == 1 and v[0].__class__ is str else _header_value(v)
                    for k, v in (headers or {}).items()})


def _header_value(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def _body(value: Any) -> tuple[Any, Finding | None, bool]:
    """(parsed body, parse problem, present?) of a raw or parsed body."""
    if value is _ABSENT or value is None or value in (b"", ""):
        return None, None, False
    if isinstance(value, bytes | bytearray | str):
        parsed, problem = parse_json(bytes(value) if not isinstance(value, str) else value)
        return parsed, problem, True
    return value, None, True


def _raw(value: Any) -> bytes | None:
    """The bytes a body was parsed from, when it came as bytes or text."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return None


def _body_findings(value: Any, parsed: Any, contract: str, prefix: str) -> list[Finding]:
    raw = _raw(value)
    return [f.at(prefix) for f in payload_findings(parsed, contract, checked=raw is not None, raw=raw)]


@lru_cache(maxsize=4096)
def _split(url: str) -> SplitResult:
    return urlsplit(url)


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

    @classmethod
    def make(cls, method: str, url: str, *, request_headers: Mapping[str, Any] | None = None,
             request_body: Any = None, status: int | None = None,
             response_headers: Mapping[str, Any] | None = None, response_body: Any = None,
             name: str | None = None) -> Exchange:
        return cls(method.upper(), url, Headers.of(request_headers), request_body, status,
                   Headers.of(response_headers), response_body, name)

    @property
    def path(self) -> str:
        return _split(self.url).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(_split(self.url).query, keep_blank_values=True)

    def request_json(self) -> tuple[Any, Finding | None, bool]:
        return _body(self.request_body)

    def response_json(self) -> tuple[Any, Finding | None, bool]:
        return _body(self.response_body)


@dataclass
class ExchangeView:
    """What exchange rules read: the exchange, its operation and its parsed bodies."""

    exchange: Exchange
    operation: Operation
    request: Any
    request_ok: bool
    response: Any
    response_ok: bool


def validate_exchange(exchange: Exchange, *, policy: Policy = DEFAULT_POLICY) -> Report:
    """Validate a whole exchange: operation, headers, status, bodies and the cross rules."""
    out: list[Finding] = []
    op, candidates = find_operation(exchange.method, exchange.path)
    if op is None:
        out.extend(X.unknown_operation(exchange, candidates))
        return Report.build(None, out, policy, exchange.name)
    # a request the server refused (4xx) is not the server's violation: it is not judged at all
    rejected = exchange.status is not None and 400 <= exchange.status < 500
    request_findings: list[Finding] = []
    request: Any = None
    request_ok = False
    if not rejected:
        request_findings = [*X.missing_headers(exchange, op), *X.query_parameters(exchange, op)]
        request, problem, present = exchange.request_json()
        if problem is not None:
            request_findings.append(problem.at("/request/body"))
        elif op.request_contract and present:
            request_findings.extend(_body_findings(exchange.request_body, request, op.request_contract,
                                                   "/request/body"))
        elif op.request_contract and not present:
            request_findings.append(X.BODY.finding("/request/body", f"{op.operation_id} needs a JSON body", ""))
        request_ok = present and not any(f.severity == "error" for f in request_findings)
        out.extend(request_findings)

    response: Any = None
    response_ok = False
    if exchange.status is not None:
        documented, contract = op.response_contract(exchange.status)
        out.extend(X.status_documented(exchange, op, documented))
        out.extend(X.response_headers(exchange, op))
        response, problem, present = exchange.response_json()
        if problem is not None:
            out.append(problem.at("/response/body"))
        elif documented and contract is None and present:
            out.append(X.BODY.finding("/response/body", f"a {exchange.status} answer carries no body, "
                                      "but this one has one", "send an empty body"))
        elif contract is not None and not present:
            out.append(X.BODY.finding("/response/body", f"a {exchange.status} answer of {op.operation_id} "
                                      f"has a {contract} body, but this one is empty", ""))
        elif contract is not None:
            body_findings = _body_findings(exchange.response_body, response, contract, "/response/body")
            out.extend(body_findings)
            response_ok = not any(f.severity == "error" and f.rule in _SCHEMA_IDS for f in body_findings)
        body_errors = [f for f in request_findings if f.severity == "error" and f.pointer.startswith("/request/body")]
        if body_errors and 200 <= exchange.status < 300:
            out.append(X.ACCEPTED_INVALID.finding(
                "/response/status", f"the request body breaks the contract ({body_errors[0].rule} at "
                f"{body_errors[0].pointer}) but the answer is {exchange.status}",
                "reject an invalid body with 400"))
    if exchange.status is not None and 200 <= exchange.status < 300:
        rules = _exchange_rules(op.operation_id)
        if rules:
            view = ExchangeView(exchange, op, request, request_ok, response, response_ok)
            for r in rules:
                out.extend(r.run(view))
    return Report.build(op.operation_id, out, policy, exchange.name)


_SCHEMA_IDS = frozenset({"AEC001", "AEC002", "AEC003", "AEC004", "AEC005", "AEC006"})


@cache
def _exchange_rules(operation_id: str) -> tuple[Any, ...]:
    """The exchange rules with something to say about an operation's exchanges."""
    return tuple(r for r in all_rules() if r.scope == "exchange" and r.check is not None
                 and (not r.operations or operation_id in r.operations))


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
