"""The one judge of traffic: every source of exchanges (the check, the proxy, a recording, the pytest
plugin) feeds a ``Session``, and the session does the rest the same way for each of them:

1. validates the exchange on its own (``validate_exchange``);
2. applies the rules across exchanges (``Traffic``: a job's history, a walk through the list; and any
   rule registered with ``scope="traffic"``, which reads the exchange and the traffic before it);
3. measures coverage;
4. keeps what it judged in the ``RunReport`` every writer reads.

A source says which sides it tests. The proxy and a team's recordings judge both: the client's request
and the server's answer. The check judges the server only: its requests may be invalid on purpose, and
what it tests is how the server answers them. Every finding names its side (``Finding.side``).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .engine.coverage import Coverage
from .engine.drift import Drift
from .engine.exchange import Bodies, Facts, judge_exchange
from .engine.traffic import Traffic, has_traffic_rules, traffic_findings
from .findings import CLIENT, SIDES, Finding, RunReport
from .http import HISTORY, Exchange, Seen, TrafficView
from .rules import seriousness
from .rules.exchange import INVALID_REQUEST_ACCEPTED
from .spec.api import PATHS

__all__ = ["Session", "Verdict"]

_NONE: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Verdict:
    """What the session said of one exchange: the findings that fail the run, and which of the findings
    annotated as expected it found."""

    failing: list[Finding]
    expected_found: frozenset[tuple[str, str]] = frozenset()


@dataclass
class Session:
    """What one run judged of a stream of exchanges, fed in the order they happened."""

    report: RunReport
    sides: frozenset[str] = frozenset(SIDES)  # the sides under test: a finding of another side is left out
    layer: str = "traffic"  # the layer its results are reported under
    #: the jobs the source made itself, where it knows (the check): an answer about other jobs is
    #: about data already on the target, reported apart; None: every job counts as the run's own
    created: set[str] | None = None
    #: told one line per failing finding, as it is found: '(side) RULE operation pointer: message'
    log: Callable[[str], None] | None = None
    traffic: Traffic = field(default_factory=Traffic)
    #: note where the answers depart from the description (replay and the proxy: what a contract's owner reads)
    drift: bool = False
    _tainted: set[str] = field(default_factory=set)  # jobs made from a create that should have been refused
    _history: deque[Seen] = field(default_factory=lambda: deque(maxlen=HISTORY))  # for the rules across exchanges
    _answers: Counter[int] = field(default_factory=Counter)  # the status codes of the answers it judged
    _bodies: Bodies = field(default_factory=Bodies)  # the bodies judged so far: one seen again is not judged again

    def __post_init__(self) -> None:
        unknown = set(self.sides) - set(SIDES)
        if unknown or not self.sides:
            raise ValueError(f"sides are some of {', '.join(SIDES)}, not {sorted(unknown)}")
        if self.report.coverage is None:
            self.report.coverage = Coverage()
        if self.report.rank is None:
            self.report.rank = seriousness  # security findings lead whatever reads the report
        if self.drift and self.report.drift is None:
            self.report.drift = Drift(unseen=False)  # (the documented properties never seen are drift's to list)

    def see(self, exchange: Exchange, *, name: str | None = None, annotated: Iterable[tuple[str, str]] = (),
            recording: tuple[str, str] | None = None) -> Verdict:
        """Judge one exchange: its findings go into the report (those ``annotated`` as expected, by rule and
        pointer, are counted by coverage but not reported); ``recording`` says where it was read from."""
        report = self.report
        report.exchanges += 1
        report.methods[exchange.method] += 1
        if not PATHS.is_contract_path(exchange.path):
            return Verdict([])  # Data Access and other services are outside the contract
        policy = report.policy
        if exchange.status is not None:
            self._answers[exchange.status] += 1
        judged, known = judge_exchange(exchange, policy=policy, bodies=self._bodies, client=CLIENT in self.sides)
        found = judged.findings
        across = self.traffic.see(exchange, known)
        if has_traffic_rules():
            across = across + self._across(exchange, known)
        if across:
            found = found + [f for f in across if policy.reports(f)]
        if found and len(self.sides) < len(SIDES):
            found = [f for f in found if f.side is None or f.side in self.sides]
        report.coverage.see(exchange, found, known)
        if report.drift is not None:
            where = recording or (report.target, f"#{report.exchanges}")
            report.drift.see(exchange, where, known)
        matched: frozenset[tuple[str, str]] = _NONE
        if annotated:
            expected = set(annotated)
            matched = frozenset((f.rule, f.pointer) for f in found) & expected
            found = [f for f in found if (f.rule, f.pointer) not in expected]
        op = known.operation
        operation = op.operation_id if op else f"{exchange.method} {exchange.path}"
        title = name or exchange.name or f"#{report.exchanges} {exchange.method} {exchange.path}"
        if not found:  # the common case: nothing to tie to a job or a cause
            if operation == "createExportJob":
                self._cause(operation, known.response, found, [])  # (a valid create clears its id)
            report.add(self.layer, title, operation, found, exchange, recording=recording)
            return Verdict([], matched)
        subjects = _subjects(exchange, known.response, found)
        existing = self.created is not None and exchange.method == "GET" and bool(subjects) \
            and not (set(subjects) & self.created)
        caused_by = self._cause(operation, known.response, found, subjects)
        result = report.add(self.layer, title, operation, found, exchange, subjects=subjects, existing=existing,
                            caused_by=caused_by, recording=recording)
        failing = [f for f in result.findings if policy.fails(f)]
        if self.log is not None:
            for f in failing:
                self.log(f"({f.side or 'payload'}) {f.rule} {operation} {f.pointer or '/'}: {f.message}")
        return Verdict(failing, matched)


    def _cause(self, operation: str, body: Any, found: list[Finding], subjects: list[str]) -> tuple[str, str] | None:
        """The violation an exchange's findings follow from, as (rule, operation), or None.

        An answer to a request the server should have refused, and every later answer about the job it made,
        carry that request's faults: those findings are consequences of the one violation, not causes of
        their own. Only a create that made a job taints it (the job its answer names), and a later create
        that answers with the same id from a valid request clears it: a target that answers every id alike
        must not make unrelated findings count as consequences.
        """
        invalid = any(f.rule == INVALID_REQUEST_ACCEPTED for f in found)
        if operation == "createExportJob" and isinstance(body, dict) and isinstance(body.get("id"), int | str):
            (self._tainted.add if invalid else self._tainted.discard)(str(body["id"]))
        if invalid:
            return INVALID_REQUEST_ACCEPTED, operation
        if subjects and set(subjects) <= self._tainted:
            return INVALID_REQUEST_ACCEPTED, "createExportJob"
        return None

    def could_not_see(self) -> str | None:
        """Why the run saw nothing of the API although it got answers (every one 404, or every one a refusal
        of the credentials), in one line; None when it saw something. Such a run is no pass."""
        total = sum(self._answers.values())
        if not total:
            return None
        if self._answers[404] == total:
            return (f"every one of the {total} answers was 404 Not Found: the target serves no Export Jobs API at "
                    "these paths (is the base URL the API's, without a path of its own?)")
        refused = self._answers[401] + self._answers[403]
        if refused == total:
            return (f"every one of the {total} answers refused the credentials (401 or 403): check the access "
                    "token, API key, org and sandbox")
        return None

    def _across(self, exchange: Exchange, known: Facts) -> list[Finding]:
        """The findings of the rules across exchanges written as functions, then the exchange joins the history."""
        seen = Seen(exchange, known.operation.operation_id if known.operation else None, known.request, known.response)
        found = traffic_findings(TrafficView(seen, tuple(self._history)))
        self._history.append(seen)
        return found


def _subjects(exchange: Exchange, body: Any, findings: list[Finding]) -> list[str]:
    """The ids of the jobs an answer's findings are about: the job of the path, the job in the body, or
    the records the pointers land in."""
    ids: list[str] = []
    match = PATHS.job_id(exchange.path)
    if match is not None:
        ids.append(match)
    if isinstance(body, dict):
        records = body.get("records")
        if isinstance(records, list):
            for f in findings:
                parts = f.pointer.split("/")
                if len(parts) > 4 and parts[3] == "records" and parts[4].isdigit() and int(parts[4]) < len(records):
                    record = records[int(parts[4])]
                    if isinstance(record, dict) and isinstance(record.get("id"), int | str):
                        ids.append(str(record["id"]))
        elif isinstance(body.get("id"), int | str):
            ids.append(str(body["id"]))
    return list(dict.fromkeys(ids))
