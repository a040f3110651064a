"""The one result model: findings, the report of one payload or exchange, the report of a run, and the
policy that decides which findings fail."""

from __future__ import annotations

import copy
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["CLIENT", "SERVER", "SIDES", "Baseline", "Finding", "Policy", "Report", "Result", "RunReport", "Severity",
           "side_of"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Finding(NamedTuple):
    """One problem: which rule, how bad, where (RFC 6901 pointer), what and how to fix it.

    An immutable value (a named tuple: a validation can make thousands, and a tuple is made in a third of
    the time of a frozen dataclass)."""

    rule: str
    severity: Severity
    pointer: str
    message: str
    hint: str = ""

    @property
    def side(self) -> str | None:
        """Whose fault it is, in an exchange: ``client`` (the request breaks the contract, whatever the answer)
        or ``server`` (the answer does); None for a payload on its own."""
        return side_of(self.pointer)

    def to_dict(self) -> dict[str, str]:
        out = {
            "rule": self.rule,
            "severity": str(self.severity),
            "pointer": self.pointer,
            "message": self.message,
            "hint": self.hint,
        }
        side = self.side
        if side is not None:
            out["side"] = side
        return out

    def at(self, prefix: str) -> Finding:
        """The same finding, its pointer moved under ``prefix``."""
        return tuple.__new__(Finding, (self[0], self[1], prefix + self[2], self[3], self[4]))  # (no keyword parsing)


#: the two sides of an exchange, as findings name them
CLIENT, SERVER = "client", "server"
SIDES = (CLIENT, SERVER)


def overlay_in_use() -> dict[str, str] | None:
    """The overlay the contracts are read with, as a report names it (its path and the sha256 of its bytes)."""
    from .spec.contracts import active_overlay

    overlay = active_overlay()
    return None if overlay is None else {"path": overlay.path, "sha256": overlay.digest}


def side_of(pointer: str) -> str | None:
    """The side a pointer into an exchange lands on: the request is the client's, the answer the server's."""
    if pointer.startswith("/request"):
        return CLIENT
    if pointer.startswith("/response"):
        return SERVER
    return None


class Baseline:
    """Accepted findings, by (rule, pointer): silences one known deviation, not a whole rule."""

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self.entries: set[tuple[str, str]] = set(entries)

    def __contains__(self, finding: object) -> bool:
        return isinstance(finding, Finding) and (finding.rule, finding.pointer) in self.entries

    @classmethod
    def load(cls, path: str | Path) -> Baseline:
        """Read a baseline file (JSON: ``{"accepted": [{"rule": ..., "pointer": ...}]}``)."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        rows = data.get("accepted", []) if isinstance(data, dict) else []
        if not isinstance(rows, list) or not all(
            isinstance(r, dict) and isinstance(r.get("rule"), str) and isinstance(r.get("pointer"), str)
            for r in rows
        ):
            raise ValueError(f"{path}: a baseline is {{\"accepted\": [{{\"rule\": ..., \"pointer\": ...}}]}}")
        return cls((r["rule"], r["pointer"]) for r in rows)

    @classmethod
    def from_findings(cls, findings: Iterable[Finding]) -> Baseline:
        return cls((f.rule, f.pointer) for f in findings)

    def dump(self, path: str | Path) -> None:
        rows = [{"rule": r, "pointer": p} for r, p in sorted(self.entries)]
        Path(path).write_text(json.dumps({"accepted": rows}, indent=2) + "\n", encoding="utf-8")


def _matches(rule: str, selectors: frozenset[str]) -> bool:
    return any(rule.startswith(s) for s in selectors)


@dataclass(frozen=True)
class Policy:
    """Which findings are reported and which fail.

    ``select`` and ``ignore`` take rule ids or prefixes (``AEC2`` is every AEC2xx rule).
    By default only errors fail; ``strict`` makes warnings fail too.
    """

    strict: bool = False
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    baseline: Baseline | None = None

    @classmethod
    def make(cls, *, strict: bool = False, select: Iterable[str] | None = None,
             ignore: Iterable[str] = (), baseline: Baseline | None = None) -> Policy:
        return cls(strict, frozenset(s.upper() for s in select) if select is not None else None,
                   frozenset(s.upper() for s in ignore), baseline)

    @property
    def keeps_all(self) -> bool:
        """Whether it reports every finding (no selection, nothing ignored, no baseline)."""
        return self.select is None and not self.ignore and self.baseline is None

    def reports(self, finding: Finding) -> bool:
        if self.select is not None and not _matches(finding.rule, self.select):
            return False
        if _matches(finding.rule, self.ignore):
            return False
        return not (self.baseline is not None and finding in self.baseline)

    def fails(self, finding: Finding) -> bool:
        return finding.severity is Severity.ERROR or self.strict

    def __reduce__(self) -> tuple[type[Policy], tuple[bool, frozenset[str] | None, frozenset[str], Baseline | None]]:
        # made again from its fields: the compiled class is frozen to pickle's setattr too (a policy travels to a
        # scale-out's workers)
        return Policy, (self.strict, self.select, self.ignore, self.baseline)


DEFAULT_POLICY = Policy()


@dataclass(slots=True, init=False)
class Report:
    """The findings for one payload or exchange, under a policy."""

    contract: str | None
    findings: list[Finding]
    policy: Policy
    suppressed: int
    source: str | None

    def __init__(self, contract: str | None, findings: list[Finding] | None = None, policy: Policy = DEFAULT_POLICY,
                 suppressed: int = 0, source: str | None = None) -> None:
        # written out, not made by dataclass: the compiled engine then builds one in C (one per payload validated)
        self.contract, self.findings, self.policy = contract, [] if findings is None else findings, policy
        self.suppressed, self.source = suppressed, source

    def __reduce__(self) -> tuple[type[Report], tuple[str | None, list[Finding], Policy, int, str | None]]:
        # made again from its fields: the compiled class unpickles through its __init__ (reports come back from
        # a scale-out's workers)
        return Report, (self.contract, self.findings, self.policy, self.suppressed, self.source)

    @classmethod
    def build(cls, contract: str | None, findings: list[Finding], policy: Policy = DEFAULT_POLICY,
              source: str | None = None) -> Report:
        if not findings:
            return cls(contract, [], policy, 0, source)
        if len(findings) == 1 and policy.keeps_all:
            return cls(contract, list(findings), policy, 0, source)
        kept: list[Finding] = []
        dropped = 0
        seen: set[tuple[str, str, str]] = set()
        reports = None if policy.keeps_all else policy.reports
        for f in findings:
            key = (f[0], f[2], f[3])  # rule, pointer, message
            if key in seen:
                continue
            seen.add(key)
            if reports is None or reports(f):
                kept.append(f)
            else:
                dropped += 1
        return cls(contract, kept, policy, dropped, source)

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings if self.policy.fails(f)]

    @property
    def valid(self) -> bool:
        """True when no finding fails under the policy."""
        return not self.failing

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    def rules(self) -> set[str]:
        return {f.rule for f in self.findings}

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.source,
            "contract": self.contract,
            "valid": self.valid,
            "findings": [f.to_dict() for f in self.findings],
            **({"overlay": overlay} if (overlay := overlay_in_use()) is not None else {}),
        }


@dataclass
class Result:
    """One named check of a run (a recorded exchange, a lifecycle step, a file) and what it found."""

    layer: str
    name: str
    operation: str
    findings: list[Finding] = field(default_factory=list)
    reproduction: dict[str, Any] | None = None  # how to send the request again (secrets masked)
    subjects: tuple[str, ...] = ()  # the ids of the jobs its findings are about, where known
    existing: bool = False  # its findings are about data the run did not create (already on the target)
    #: the violation (rule, operation) these findings follow from: answers about a job an invalid create made
    caused_by: tuple[str, str] | None = None
    #: where the exchange lies in a recording: (its file, a JSON pointer to it there), for reports that locate
    recording: tuple[str, str] | None = None


_ID_LIKE = re.compile(r"[0-9]+|[0-9a-fA-F-]{16,}|[0-9a-fA-F]{8}-[0-9a-fA-F-]+")


def fold_pointer(pointer: str) -> str:
    """A pointer with its array indices and ids folded to ``*``, so that one cause is one pattern."""
    return "/".join("*" if _ID_LIKE.fullmatch(part) else part for part in pointer.split("/"))


@dataclass
class Group:
    """Every violation of one cause: one rule, on one operation, at one pointer pattern."""

    rule: str
    operation: str
    pointer: str  # folded: array indices and ids are '*'
    severity: Severity
    message: str  # the first occurrence's
    hint: str
    count: int = 0
    consequences: int = 0  # findings that follow from this cause (about what it wrongly let through)
    checks: list[str] = field(default_factory=list)  # the names of the checks it failed, in order, once each
    subjects: list[str] = field(default_factory=list)  # the jobs it touched, in order, once each
    reproduction: dict[str, Any] | None = None  # the first occurrence's

    @property
    def key(self) -> str:
        return f"{self.rule} {self.operation} {self.pointer or '/'}"

    @property
    def side(self) -> str | None:
        return side_of(self.pointer)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "operation": self.operation, "pointer": self.pointer, "side": self.side,
                "severity": str(self.severity),
                "count": self.count, "consequences": self.consequences, "message": self.message, "hint": self.hint,
                "checks": self.checks, "jobs": self.subjects, "reproduction": self.reproduction}


def group(pairs: Iterable[tuple[Result, Finding]], rank: Callable[[str], int] | None = None) -> list[Group]:
    """Findings grouped by cause; a finding that follows from another violation counts as a consequence
    of that rule's first group on that operation. In order of ``rank`` (of a rule: lower first), then
    errors before warnings, then as each cause first appeared."""
    groups: dict[tuple[str, str, str], Group] = {}
    following: list[tuple[Result, Finding]] = []
    for result, f in pairs:
        if result.caused_by is not None and result.caused_by[0] != f.rule:
            following.append((result, f))
            continue
        folded = fold_pointer(f.pointer)
        g = groups.get((f.rule, result.operation, folded))
        if g is None:
            g = groups[f.rule, result.operation, folded] = Group(f.rule, result.operation, folded, f.severity,
                                                                 f.message, f.hint, reproduction=result.reproduction)
        g.count += 1
        if result.name not in g.checks:
            g.checks.append(result.name)
        g.subjects.extend(s for s in result.subjects if s not in g.subjects)
    by_cause: dict[tuple[str, str], Group] = {}
    for g in groups.values():
        by_cause.setdefault((g.rule, g.operation), g)
    leftover = []
    for result, f in following:
        cause = by_cause.get(result.caused_by) if result.caused_by else None
        if cause is None:
            leftover.append((replace(result, caused_by=None), f))
            continue
        cause.consequences += 1
        cause.subjects.extend(s for s in result.subjects if s not in cause.subjects)
    out = list(groups.values()) + (group(leftover) if leftover else [])
    if rank is not None:
        out.sort(key=lambda g: (rank(g.rule), g.severity is not Severity.ERROR))
    return out


@dataclass
class RunReport:
    """What a run (check, replay, a proxy session) found: its checks, in order, under one policy.

    Every writer (text, JSON, JUnit, SARIF) reads this model. ``reproduce`` turns an exchange into
    its reproduction (the check layer passes one that masks the run's secrets).
    """

    target: str
    seed: int | None  # the seed of a generating run (a check); None where nothing was generated
    policy: Policy
    results: list[Result] = field(default_factory=list)
    unstable: list[str] = field(default_factory=list)  # the target misbehaved apart from the contract (429, timeouts)
    errors: list[str] = field(default_factory=list)  # the run could not check something (unreadable, skipped)
    notes: list[str] = field(default_factory=list)  # what the run assumed and a user should know
    existing_fails: bool = False  # findings on data the run did not create fail it too
    coverage: Any = None  # what the run exercised (the engine's Coverage: merge(), to_dict(), gate())
    drift: Any = None  # where the answers departed from the description (the engine's Drift: merge(), to_dict())
    below_coverage: list[str] = field(default_factory=list)  # a --min-coverage the run fell short of: what is missing
    unreachable: str | None = None  # no connection could be made to the target: why (the run checked nothing after)
    interrupted: bool = False  # stopped (SIGINT, SIGTERM) before it finished: it holds what it saw until then
    exchanges: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    reproduce: Callable[[Any], dict[str, Any]] | None = None
    rank: Callable[[str], int] | None = None  # how soon a rule's groups are read (the rules' seriousness)
    started: float = field(default_factory=time.time)  # when the run began, in seconds since the epoch
    kind: str = "contract check"  # what made the run, as its heading says it: "contract check", "replay", "proxy session"
    #: the overlay the contract was read with ({"path", "sha256"}), or None: the bundled contract as it is
    overlay: dict[str, str] | None = field(default_factory=lambda: overlay_in_use())

    def add(self, layer: str, name: str, operation: str, findings: list[Finding] | None = None,
            exchange: Any = None, *, subjects: Iterable[str] = (), existing: bool = False,
            caused_by: tuple[str, str] | None = None, recording: tuple[str, str] | None = None) -> Result:
        """Record a check; the findings the policy does not report are left out."""
        kept = [f for f in findings or [] if self.policy.reports(f)]
        reproduction = self.reproduce(exchange) if exchange is not None and kept and self.reproduce else None
        result = Result(layer, name, operation, kept, reproduction, tuple(subjects), existing, caused_by, recording)
        self.results.append(result)
        return result

    def merge(self, other: RunReport, *, take: bool = False) -> None:
        """Take another run's checks, problems and counts (a part of this run, e.g. one cassette). ``take``: the
        part is not read again, so its coverage and drift may become this run's as they are."""
        self.unreachable = self.unreachable or other.unreachable
        self.started = min(self.started, other.started)
        self.rank = self.rank or other.rank
        self.interrupted = self.interrupted or other.interrupted
        # a part's coverage and drift are taken as copies: merging more into them must leave the part as it was
        if other.coverage is not None:
            self.coverage = (other.coverage if take else copy.deepcopy(other.coverage)) if self.coverage is None \
                else self.coverage.merge(other.coverage)
        if other.drift is not None:
            self.drift = (other.drift if take else copy.deepcopy(other.drift)) if self.drift is None \
                else self.drift.merge(other.drift)
        self.notes.extend(n for n in other.notes if n not in self.notes)
        self.results.extend(other.results)
        self.unstable.extend(other.unstable)
        self.errors.extend(other.errors)
        self.exchanges += other.exchanges
        self.methods.update(other.methods)

    def failing(self) -> list[tuple[Result, Finding]]:
        """The violations: findings the policy fails, on data the run made (or on any, with ``existing_fails``)."""
        return [(r, f) for r in self.results if self.existing_fails or not r.existing
                for f in r.findings if self.policy.fails(f)]

    def on_existing(self) -> list[tuple[Result, Finding]]:
        """Findings about data already on the target that do not fail the run (``existing_fails`` off)."""
        if self.existing_fails:
            return []
        return [(r, f) for r in self.results if r.existing for f in r.findings if self.policy.fails(f)]

    def groups(self) -> list[Group]:
        """The violations grouped by cause: what a user reads, one line each."""
        return group(self.failing(), self.rank)

    @property
    def ok(self) -> bool:
        return not self.failing()

    @property
    def passed(self) -> bool:
        """The run saw the target and found nothing that fails it: no violation, no coverage gate missed, no
        error, not unreachable, not stopped before the end."""
        return self.ok and not (self.unreachable or self.interrupted or self.below_coverage or self.errors)

    def by_rule(self) -> Counter[str]:
        return Counter(f.rule for _, f in self.failing())

    def by_result(self) -> list[tuple[Result, bool]]:
        """Every check, and whether it failed the run."""
        return [(r, (self.existing_fails or not r.existing) and any(self.policy.fails(f) for f in r.findings))
                for r in self.results]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "seed": self.seed,
            "overlay": self.overlay,
            "ok": self.ok,
            "exchanges": self.exchanges,
            "methods": dict(sorted(self.methods.items())),
            "checks": len(self.results),
            "failed_checks": sum(bad for _, bad in self.by_result()),
            "violations": [
                {"layer": r.layer, "check": r.name, "operation": r.operation, **f.to_dict(),
                 "reproduction": r.reproduction}
                for r, f in self.failing()
            ],
            "warnings": [
                {"layer": r.layer, "check": r.name, "operation": r.operation, **f.to_dict()}
                for r in self.results for f in r.findings if not self.policy.fails(f)
            ],
            "by_rule": dict(sorted(self.by_rule().items())),
            # one entry per cause (rule, operation, pointer pattern); their counts add up to the violations
            "groups": [g.to_dict() for g in self.groups()],
            "on_existing_data": [g.to_dict() for g in group(self.on_existing())],
            "unstable": self.unstable,
            "errors": self.errors,
            "unreachable": self.unreachable,
            "interrupted": self.interrupted,
            "notes": self.notes,
            "coverage": self.coverage.to_dict() if self.coverage is not None else None,
            "drift": self.drift.to_dict() if self.drift is not None else None,
            "below_coverage": self.below_coverage,
        }

    def to_json(self) -> str:
        """``to_dict`` as indented JSON (the writers of the other formats are in ``reporting``)."""
        return json.dumps(self.to_dict(), indent=2)
