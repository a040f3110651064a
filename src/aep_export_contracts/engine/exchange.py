"""Validate a whole HTTP exchange: operation, headers, status code, both bodies and the cross rules."""

from __future__ import annotations

from functools import cache, partial
from typing import Any, ClassVar, NamedTuple

from ..findings import DEFAULT_POLICY, Finding, Policy, Report
from ..http import Exchange, ExchangeView, query_pairs
from ..rules import Rule, all_rules, on_change
from ..rules.exchange import NO_OPERATION
from ..spec.api import Operation, find_operation
from ..spec.contracts import on_reload
from .payload import _SHORTCUTS, parse_json
from .payload import findings as payload_findings

__all__ = ["Bodies", "Facts", "facts", "judge_exchange", "validate_exchange"]

_ABSENT: Any = object()


class Facts(NamedTuple):
    """What the rules across exchanges read of one exchange: its operation and parsed bodies (a named tuple:
    one is made for every exchange judged)."""

    operation: Operation | None
    request: Any
    response: Any
    url: str
    response_ok: bool = False  # the answer's body met its contract's schema (no error the schema found)

    @property
    def query(self) -> dict[str, str]:
        """The query parameters, the last value of each where one is repeated."""
        return dict(query_pairs(self.url))


def facts(exchange: Exchange) -> Facts:
    """The exchange's operation and parsed bodies (``judge_exchange`` hands back what it parsed: read that
    where you have it; nothing is kept on the exchange)."""
    op, _ = find_operation(exchange.method, exchange.path)
    return Facts(op, parse_body(exchange.request_body)[0], parse_body(exchange.response_body)[0], exchange.url)


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
    found = payload_findings(parsed, contract, checked=checked, raw=_raw(value))
    return [f.at(prefix) for f in found] if found else found


class Bodies:
    """The bodies one stream of traffic has had judged, each with what the judge made of it: a body seen again,
    byte for byte, in the same place and under the same contract (a job polled until it finishes, one page
    asked twice) is not parsed and judged again. Its findings are the same: a rule reads the body alone.

    A session keeps one. It holds bodies of at most ``MAX_BODY`` bytes, ``MAX_HELD`` bytes in all (the oldest
    go first), and forgets everything when a rule is registered or the contracts change.
    """

    MAX_BODY: ClassVar[int] = 1 << 16
    MAX_HELD: ClassVar[int] = 1 << 20  # (the parsed bodies beside them may take ten times that)

    def __init__(self) -> None:
        self._judged: dict[tuple[str, str, str | bytes], _Judged] = {}
        self._held = 0
        self._epoch = _EPOCH[0]

    def __len__(self) -> int:
        return len(self._judged)

    def get(self, key: tuple[str, str, str | bytes]) -> _Judged | None:
        if self._epoch != _EPOCH[0]:  # the rules or the contracts changed since: nothing known holds
            self._judged.clear()
            self._held, self._epoch = 0, _EPOCH[0]
            return None
        return self._judged.get(key)

    def put(self, key: tuple[str, str, str | bytes], judged: _Judged) -> None:
        self._judged[key] = judged
        self._held += len(key[2])
        while self._held > self.MAX_HELD:
            oldest = next(iter(self._judged))
            self._held -= len(oldest[2])
            del self._judged[oldest]


#: (parsed body, present?, findings, judged by its contract?): what the judge made of one body
_Judged = tuple[Any, bool, list[Finding], bool]
#: counts the changes of the rules and the contracts (what a ``Bodies`` knows holds within one count)
_EPOCH = [0]


def _next_epoch() -> None:
    _EPOCH[0] += 1


on_change(_next_epoch)
on_reload(_next_epoch)


def _body(value: Any, contract: str | None, prefix: str, bodies: Bodies | None) -> _Judged:
    """A body parsed and judged by its contract (None: none documented), or as ``bodies`` already knows it."""
    key = None
    if bodies is not None and contract is not None and value.__class__ in (str, bytes) \
            and len(value) <= Bodies.MAX_BODY and _SHORTCUTS[0]:
        key = (prefix, contract, value)
        known = bodies.get(key)
        if known is not None:
            return known
    parsed, problem, present, checked = _parse_body(value)
    if problem is not None:
        judged: _Judged = (parsed, present, [problem.at(prefix)], False)
    elif contract is not None and present:
        judged = (parsed, present, _body_findings(value, parsed, contract, prefix, checked), True)
    else:
        judged = (parsed, present, [], False)
    if key is not None:
        bodies.put(key, judged)  # type: ignore[union-attr]
    return judged


def validate_exchange(exchange: Exchange, *, policy: Policy = DEFAULT_POLICY) -> Report:
    """Validate a whole exchange: operation, headers, status, bodies and the cross rules.

    The engine parses and validates both bodies against their contracts; everything else is said by
    the registered exchange rules, which read an ``ExchangeView`` of what it found.
    """
    return judge_exchange(exchange, policy=policy)[0]


def judge_exchange(exchange: Exchange, *, policy: Policy = DEFAULT_POLICY, bodies: Bodies | None = None,
                   client: bool = True) -> tuple[Report, Facts]:
    """``validate_exchange``'s report, and the facts it worked out on the way (the operation and both
    parsed bodies: None for an exchange no operation matches), for the rules across exchanges.

    ``bodies``: what the stream this exchange belongs to already judged of its bodies (its parsed bodies
    are then shared with the exchanges that carried the same bytes: read them, do not change them).
    ``client=False``: the client's side is not under test, and the report leaves out the request body's own
    findings; the body is parsed, and judged by its contract only when a rule reads its errors (an
    invalid request that was refused, what the check sends on purpose, costs its parse alone)."""
    op, candidates = find_operation(exchange.method, exchange.path)
    if op is None:
        view = ExchangeView(exchange, None, candidates=tuple(candidates))
        return Report.build(None, _run(view, NO_OPERATION), policy, exchange.name), Facts(None, None, None, exchange.url)
    out: list[Finding] = []
    view = ExchangeView(exchange, op)
    # the request is judged whatever the answer: its findings are the client's (``Finding.side``), and a
    # source that tests only the server (the check, whose requests may be invalid on purpose) leaves them out
    if client or not _SHORTCUTS[0]:
        view.request, view.request_present, body, _ = _body(exchange.request_body, op.request_contract,
                                                            "/request/body", bodies)
        if body:
            out.extend(body)
            view._request_errors = _errors(body)
    else:
        view.request, _, view.request_present, _ = _parse_body(exchange.request_body)
        view._request_errors = partial(_request_errors, exchange.request_body, op.request_contract, bodies)
    status = exchange.status
    if status is not None:
        view.documented, view.response_contract = op.response_contract(status)
        view.response, view.response_present, body, judged = _body(exchange.response_body, view.response_contract,
                                                                   "/response/body", bodies)
        if body:
            out.extend(body)
        if judged:
            view.response_ok = not body or not any(f.severity == "error" and f.rule in _SCHEMA_IDS for f in body)
    out.extend(_run(view, op.operation_id))
    return Report.build(op.operation_id, out, policy, exchange.name), \
        Facts(op, view.request, view.response, exchange.url, view.response_ok)


def _errors(found: list[Finding]) -> tuple[Finding, ...]:
    return tuple(f for f in found if f.severity == "error")


def _request_errors(value: Any, contract: str | None, bodies: Bodies | None) -> tuple[Finding, ...]:
    """The error-level findings of a request body, worked out when a rule first reads them."""
    return _errors(_body(value, contract, "/request/body", bodies)[2])


def _run(view: ExchangeView, operation_id: str) -> list[Finding]:
    """The findings of every exchange rule that speaks of this operation and of this answer."""
    out: list[Finding] = []
    every, success_only = _exchange_rules(operation_id)
    for check, r in every:
        hits = check(view)
        if hits:  # an empty list: nothing built; a generator is always run out
            out.extend(r.findings_of(hits))
    if success_only and view.succeeded:
        for check, r in success_only:
            hits = check(view)
            if hits:
                out.extend(r.findings_of(hits))
    return out


_SCHEMA_IDS = frozenset({"AEC001", "AEC002", "AEC003", "AEC004", "AEC005", "AEC006"})


@cache
def _exchange_rules(operation_id: str) -> tuple[tuple[tuple[Any, Rule], ...], tuple[tuple[Any, Rule], ...]]:
    """The exchange rules with something to say about an operation's exchanges, each with its check: (on every
    answer, on success only). Rules that name no operation speak of every operation of the API."""
    rules = [(r.check, r) for r in all_rules() if r.scope == "exchange" and r.check is not None
             and (operation_id in r.operations or (not r.operations and operation_id != NO_OPERATION))]
    return tuple(p for p in rules if p[1].on == "any"), tuple(p for p in rules if p[1].on != "any")


on_change(_exchange_rules.cache_clear)


