"""Contract coverage: what a run's exchanges exercised, against what the contract documents.

A ``Coverage`` is fed the exchanges of a run (a check, a replay, a proxy session) with their findings,
in order, and measures eight dimensions, each a set of items the description documents and the subset
the traffic showed:

- ``operations``: each operation answered at all;
- ``status-codes``: each documented (operation, status code) pair answered;
- ``job-statuses``: each documented job status seen in an answer;
- ``transitions``: NEW → PROCESSING, PROCESSING → SUCCEEDED, → FAILED, and a cancel acknowledged
  while the job ran;
- ``listing``: a limit sent, a cursor followed, the status filter, a last page, an empty list;
- ``headers``: each required request header missing from a request at least once;
- ``request-shapes``: create requests with segments, segmentPerBatch, eventList, emptyProfiles,
  evaluationInfo;
- ``rules``: each rule exercised (a payload of its contract, or an exchange of its operation, was
  judged), beside the rules that fired.

Every item of every dimension is read from the description and the rule registry, not listed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..findings import Finding
from ..http import Exchange, scope_of
from ..rules import all_rules, on_change
from ..rules.exchange import NO_OPERATION
from ..rules.util import dig
from ..spec.api import JOB_STATUSES, operations
from .exchange import Facts, facts

__all__ = ["DIMENSIONS", "Coverage", "parse_minimums"]

STATUS = JOB_STATUSES
DIMENSIONS = ("operations", "status-codes", "job-statuses", "transitions", "listing", "headers",
              "request-shapes", "rules")
SHAPES = {
    "segments": ("filter", "segments"),
    "segmentPerBatch": ("destination", "segmentPerBatch"),
    "eventList": ("additionalFields", "eventList"),
    "emptyProfiles": ("filter", "emptyProfiles"),
    "evaluationInfo": ("evaluationInfo",),
}
#: what to record next, per dimension, to close a gap (the item is appended)
ADVICE = {
    "operations": "call",
    "status-codes": "record an answer of",
    "job-statuses": "record a job whose status is",
    "transitions": "record a job that goes",
    "listing": "page through the list with",
    "headers": "send a request without the header",
    "request-shapes": "create a job whose request has",
    "rules": "validate a payload or exchange that rule reads:",
}


@dataclass(frozen=True)
class _Rules:
    """Which registered rules an exchange of each operation, or a payload of each contract, exercises."""

    every: tuple[str, ...]
    by_operation: dict[str, frozenset[str]]
    by_contract: dict[str, frozenset[str]]
    without_operation: frozenset[str]


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    checked = [r for r in all_rules() if r.check is not None]
    exchange = [r for r in checked if r.scope == "exchange"]
    payload = [r for r in checked if r.scope != "exchange"]
    return _Rules(
        tuple(r.id for r in checked),
        {op.operation_id: frozenset(r.id for r in exchange if not r.operations or op.operation_id in r.operations)
         for op in operations()},
        {c: frozenset(r.id for r in payload if c in r.contracts) for c in {c for r in payload for c in r.contracts}},
        frozenset(r.id for r in exchange if NO_OPERATION in r.operations))


on_change(_rules.cache_clear)  # a rule registered later (a user's) is counted too


@lru_cache(maxsize=1)
def _universe() -> dict[str, list[str]]:
    """Every item of every dimension (read once; shared by every Coverage, which only reads it)."""
    ops = operations()
    required = sorted({h for op in ops for h in op.required_headers})
    return {
        "operations": [op.operation_id for op in ops],
        "status-codes": [f"{op.operation_id} {code}" for op in ops for code in sorted(op.responses) if code.isdigit()],
        "job-statuses": list(STATUS.documented),
        "transitions": [f"{STATUS.created} → {STATUS.running}", f"{STATUS.running} → {STATUS.succeeded}", f"→ {STATUS.failed}",
                        "cancelled while running"],
        "listing": ["limit", "cursor paging", "status filter", "last page", "empty list"],
        "headers": required,
        "request-shapes": list(SHAPES),
        "rules": list(_rules().every),
    }


on_change(_universe.cache_clear)


@dataclass
class Coverage:
    """What a run's exchanges covered; ``see`` each exchange with its findings, in order."""

    universe: dict[str, list[str]] = field(default_factory=_universe)
    covered: dict[str, set[str]] = field(default_factory=lambda: {d: set() for d in DIMENSIONS})
    fired: set[str] = field(default_factory=set)
    _last_status: dict[tuple[str, str, str], str] = field(default_factory=dict)
    _counted: set[str] = field(default_factory=set)  # operations and contracts whose rules are counted already
    _answered: set[tuple[str, int]] = field(default_factory=set)  # (operation, status code) pairs counted already

    def __post_init__(self) -> None:
        self._codes = frozenset(self.universe["status-codes"])

    def see(self, exchange: Exchange, findings: Iterable[Finding] = (), known: Facts | None = None) -> None:
        """Count what the exchange covers; ``known``: what validation worked out of it (anew if not given)."""
        if findings:
            self.fired.update(f.rule for f in findings)
        known = known or facts(exchange)
        op = known.operation
        if op is None:  # the rules about a request no operation answers (a wrong method, an unknown path)
            self.covered["rules"].update(_rules().without_operation)
            return
        name = op.operation_id
        c = self.covered
        headers = exchange.request_headers
        for h in op.required_headers:
            if h not in headers:
                c["headers"].add(h)
        if name not in self._counted:
            self._counted.add(name)
            c["rules"].update(_rules().by_operation.get(name, ()))
        request = known.request
        if name == "createExportJob" and isinstance(request, dict):
            shapes = c["request-shapes"]
            if len(shapes) < len(SHAPES):  # (once every shape is seen, none is looked for)
                shapes.update(shape for shape, path in SHAPES.items()
                              if shape not in shapes and dig(request, *path) is not None)
            self._payload_rules("export-job-request")
        status = exchange.status
        if status is None:
            return
        c["operations"].add(name)
        if (name, status) not in self._answered:
            self._answered.add((name, status))
            code = f"{name} {status}"
            if code in self._codes:
                c["status-codes"].add(code)
        if not 200 <= status < 300:
            return
        body = known.response
        if name == "listExportJobs" and isinstance(body, dict):
            self._listing(known, body)
            self._payload_rules("export-job-list")
            records = body.get("records")
            if records:
                scope = scope_of(headers)
                for record in records:
                    self._job(scope, record)
        elif name in ("createExportJob", "getExportJob"):
            self._payload_rules("export-job")
            self._job(scope_of(headers), body)
        elif name == "cancelExportJob":
            acknowledged = status == 204 or (isinstance(body, dict) and body.get("status") is True)
            if acknowledged:
                c["transitions"].add("cancelled while running")
        elif name == "createDataset":
            self._payload_rules("dataset-request", "dataset-response")

    def _payload_rules(self, *contracts: str) -> None:
        by_contract = _rules().by_contract
        for contract in contracts:
            if contract not in self._counted:
                self._counted.add(contract)
                self.covered["rules"].update(by_contract.get(contract, ()))

    def _job(self, scope: tuple[str, str], job: Any) -> None:
        if not isinstance(job, dict) or not isinstance(job.get("status"), str):
            return
        status = job["status"]
        if status in STATUS.documented:
            self.covered["job-statuses"].add(status)
        key = (*scope, str(job.get("id")))
        before = self._last_status.get(key)
        if before is not None and before != status:
            move = f"→ {STATUS.failed}" if status == STATUS.failed else f"{before} → {status}"
            if move in self.universe["transitions"]:
                self.covered["transitions"].add(move)
        self._last_status[key] = status

    def _listing(self, known: Facts, body: dict[str, Any]) -> None:
        query = known.query
        c = self.covered["listing"]
        if "limit" in query:
            c.add("limit")
        if query.get("offset"):
            c.add("cursor paging")
        if query.get("status"):
            c.add("status filter")
        records = body.get("records")
        if records == []:
            c.add("empty list")
        elif records and not dig(body, "link", "next"):
            c.add("last page")

    def merge(self, other: Coverage) -> Coverage:
        """This run's coverage joined with another part's (one cassette of a replay, say)."""
        for d in DIMENSIONS:
            self.covered[d] |= other.covered[d]
        self.fired |= other.fired
        return self

    # figures
    def figure(self, dimension: str) -> float:
        items = self.universe[dimension]
        return 100.0 * len(self.covered[dimension] & set(items)) / len(items) if items else 100.0

    def missing(self, dimension: str) -> list[str]:
        return [i for i in self.universe[dimension] if i not in self.covered[dimension]]

    def to_dict(self) -> dict[str, Any]:
        return {d: {"percent": round(self.figure(d), 1), "covered": sorted(self.covered[d] & set(self.universe[d])),
                    "missing": self.missing(d)} for d in DIMENSIONS} | {"rules fired": sorted(self.fired)}

    def gate(self, minimums: dict[str, float]) -> list[str]:
        """One line per dimension below its minimum, naming what is missing."""
        out = []
        for dimension, least in minimums.items():
            have = self.figure(dimension)
            if have < least:
                missing = self.missing(dimension)
                shown = ", ".join(missing[:8]) + (f" (+{len(missing) - 8})" if len(missing) > 8 else "")
                out.append(f"coverage of {dimension} is {have:.0f}%, below {least:g}%: missing {shown}")
        return out


def parse_minimums(values: Iterable[str]) -> dict[str, float]:
    """``DIM=PCT`` texts as a mapping; raises ``ValueError`` naming the known dimensions."""
    out: dict[str, float] = {}
    for text in values:
        name, sep, number = text.partition("=")
        if not sep or name not in DIMENSIONS:
            raise ValueError(f"--min-coverage {text!r}: give DIM=PCT with DIM one of {', '.join(DIMENSIONS)}")
        try:
            value = float(number.rstrip("%"))
        except ValueError:
            raise ValueError(f"--min-coverage {text!r}: {number!r} is not a percentage") from None
        if not 0 <= value <= 100:
            raise ValueError(f"--min-coverage {text!r}: a percentage is 0 to 100")
        out[name] = value
    return out
