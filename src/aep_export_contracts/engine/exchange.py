"""Validate a whole HTTP exchange: operation, headers, status code, both bodies and the cross rules."""

from __future__ import annotations

from functools import cache
from typing import Any

from ..findings import DEFAULT_POLICY, Finding, Policy, Report
from ..http import Exchange, ExchangeView
from ..rules import all_rules, on_change
from ..rules import exchange as X
from ..spec.api import find_operation
from .payload import findings as payload_findings
from .payload import parse_json

__all__ = ["validate_exchange"]

_ABSENT: Any = object()


def parse_body(value: Any) -> tuple[Any, Finding | None, bool]:
    """(parsed body, parse problem, present?) of a raw or parsed body."""
    return _parse_body(value)[:3]


def _parse_body(value: Any) -> tuple[Any, Finding | None, bool, bool]:
    """(parsed body, parse problem, present?, checked?): ``checked`` when a parser that refuses what
    JSON cannot carry read it; a parsed value, or one Python's parser read, still needs the sanity pass."""
    if value is _ABSENT or value is None or value in (b"", ""):
        return None, None, False, True
    if isinstance(value, bytes | bytearray | str):
        parsed, problem, checked = parse_json(bytes(value) if not isinstance(value, str) else value)
        return parsed, problem, True, checked
    return value, None, True, False


def _raw(value: Any) -> bytes | None:
    """The bytes a body was parsed from, when it came as bytes or text."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return None


def _body_findings(value: Any, parsed: Any, contract: str, prefix: str, checked: bool) -> list[Finding]:
    return [f.at(prefix) for f in payload_findings(parsed, contract, checked=checked, raw=_raw(value))]


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
        request, problem, present, checked = _parse_body(exchange.request_body)
        if problem is not None:
            request_findings.append(problem.at("/request/body"))
        elif op.request_contract and present:
            request_findings.extend(_body_findings(exchange.request_body, request, op.request_contract,
                                                   "/request/body", checked))
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
        response, problem, present, checked = _parse_body(exchange.response_body)
        if problem is not None:
            out.append(problem.at("/response/body"))
        elif documented and contract is None and present:
            out.append(X.BODY.finding("/response/body", f"a {exchange.status} answer carries no body, "
                                      "but this one has one", "send an empty body"))
        elif contract is not None and not present:
            out.append(X.BODY.finding("/response/body", f"a {exchange.status} answer of {op.operation_id} "
                                      f"has a {contract} body, but this one is empty", ""))
        elif contract is not None:
            body_findings = _body_findings(exchange.response_body, response, contract, "/response/body", checked)
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


on_change(_exchange_rules.cache_clear)


