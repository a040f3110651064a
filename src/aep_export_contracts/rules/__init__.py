"""The rule registry: every rule has a stable id, a name, a severity and a description.

Schema rules name what a JSON Schema keyword found; semantic rules are small functions that say
what JSON Schema cannot. A semantic rule yields ``Hit`` values (pointer, message, hint); the
registry attaches its id and severity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..findings import Finding, Severity

__all__ = ["CLOSED", "REGISTRY", "Hit", "Rule", "all_of", "all_rules", "any_of", "get_rule", "rule", "rules_for"]


class Hit(NamedTuple):
    pointer: str
    message: str
    hint: str = ""


#: A check yields its hits, or returns them as a list (the cheaper form for rules on hot paths).
Check = Callable[[Any], Iterable[Hit]]
#: A gate reads the raw JSON bytes and says whether the rule could have anything to say: a rule
#: whose gate is False is skipped. Gates must be sound: False only when the rule cannot fire.
Gate = Callable[[bytes], bool]


def any_of(*tokens: bytes) -> Gate:
    """A gate that opens when any of ``tokens`` occurs in the bytes."""
    if len(tokens) == 1:
        token = tokens[0]
        return lambda raw: token in raw
    first, second = tokens[0], tokens[1:]
    return lambda raw: first in raw or any(t in raw for t in second)


def all_of(*tokens: bytes) -> Gate:
    """A gate that opens when every one of ``tokens`` occurs in the bytes."""
    return lambda raw: all(t in raw for t in tokens)


#: The screen of a rule that is silent whenever the payload has no key its contract does not name:
#: the validator then checks the closed contract (every object closed to the keys it names).
CLOSED: dict[str, Any] = {"$comment": "the contract, every object closed to the keys it names"}


@dataclass(frozen=True, eq=False)  # one object per rule: identity is equality
class Rule:
    id: str
    name: str
    severity: Severity
    scope: str  # "schema", "payload" or "exchange"
    contracts: tuple[str, ...]
    summary: str
    description: str
    check: Check | None = None
    gate: Gate | None = None
    screen: dict[str, Any] | None = None
    operations: tuple[str, ...] = ()  # an exchange rule: the operations it reads (none named: every one)

    def finding(self, pointer: str, message: str, hint: str = "") -> Finding:
        return Finding(self.id, self.severity, pointer, message, hint)

    def run(self, payload: Any, prefix: str = "") -> list[Finding]:
        assert self.check is not None
        hits = self.check(payload)
        if hits.__class__ is list and not hits:
            return []  # the common case: nothing to say, nothing built
        return self.findings_of(hits, prefix)

    def findings_of(self, hits: Iterable[Hit], prefix: str = "") -> list[Finding]:
        """The findings for what this rule's check returned (a list of hits, or a generator of them)."""
        return [Finding(self.id, self.severity, prefix + h.pointer, h.message, h.hint) for h in hits]


REGISTRY: dict[str, Rule] = {}


def _register(r: Rule) -> Rule:
    if r.id in REGISTRY:
        raise ValueError(f"rule id {r.id} registered twice")
    REGISTRY[r.id] = r
    return r


def schema_rule(rule_id: str, name: str, severity: str, summary: str, description: str,
                contracts: tuple[str, ...] = ()) -> Rule:
    """Register a rule whose findings come from a JSON Schema keyword."""
    return _register(Rule(rule_id, name, Severity(severity), "schema", contracts, summary, description))


def rule(rule_id: str, name: str, severity: str, contracts: tuple[str, ...],
         scope: str = "payload", gate: Gate | None = None,
         screen: dict[str, Any] | None = None, operations: tuple[str, ...] = ()) -> Callable[[Check], Check]:
    """Register a semantic rule; the function's docstring is its summary line and description.

    ``gate`` and ``screen`` are optional sound shortcuts: a gate reads the raw bytes, a screen is a
    JSON Schema that every payload on which the rule has nothing to say may pass. The validator
    folds screens into its compiled schema, so a payload that passes skips the rule entirely. An
    exchange rule names the ``operations`` it has something to say about; it is not run on others.
    """

    def wrap(fn: Check) -> Check:
        doc = (fn.__doc__ or "").strip()
        summary, _, rest = doc.partition("\n")
        description = " ".join((summary + " " + rest).split())
        _register(Rule(rule_id, name, Severity(severity), scope, contracts, summary.strip(),
                       description, fn, gate, screen, operations))
        return fn

    return wrap


def get_rule(rule_id: str) -> Rule:
    _load()
    return REGISTRY[rule_id]


def all_rules() -> list[Rule]:
    _load()
    return [REGISTRY[k] for k in sorted(REGISTRY)]


_BY_CONTRACT: dict[str, tuple[Rule, ...]] = {}


def rules_for(contract: str) -> tuple[Rule, ...]:
    """The semantic (payload) rules that apply to a contract, in id order."""
    cached = _BY_CONTRACT.get(contract)
    if cached is None:
        cached = tuple(r for r in all_rules()
                       if r.scope == "payload" and r.check is not None and contract in r.contracts)
        _BY_CONTRACT[contract] = cached
    return cached


def _load() -> None:
    from . import dataset, exchange, job, listing, request, schema, workflow  # noqa: F401
