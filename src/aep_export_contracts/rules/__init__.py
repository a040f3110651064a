"""The rule registry: every rule has a stable id, a name, a severity and a description.

Schema rules name what a JSON Schema keyword found; semantic rules are small functions that say
what JSON Schema cannot. A semantic rule yields ``Hit`` values (pointer, message, hint); the
registry attaches its id and severity.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, NamedTuple

from ..findings import Finding, Severity
from ..spec.contracts import CONTRACT_NAMES

__all__ = ["CLOSED", "ENTRY_POINT_GROUP", "REGISTRY", "Hit", "Rule", "RuleError", "all_of", "all_rules", "any_of",
           "get_rule", "is_builtin", "load_rules", "loaded_modules", "meta_rule", "on_change", "rule", "rules_for", "unregister"]


class Hit(NamedTuple):
    pointer: str
    message: str
    hint: str = ""


#: A check yields its hits, or returns them as a list (the cheaper form for rules on hot paths).
Check = Callable[[Any], Iterable[Hit]]
#: A gate reads the raw JSON bytes and says whether the rule could have anything to say: a rule
#: whose gate is False is skipped. Gates must be sound: False only when the rule cannot fire.
Gate = Callable[[bytes], bool]
#: A screen in Python: a function of the payload that says True only when the rule has nothing to say
#: (and never raises). Rules that share one such function are screened by one call of it.
Quiet = Callable[[Any], bool]


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
    scope: str  # "schema", "payload", "exchange", "traffic" (across exchanges), or the layer that makes its findings
    contracts: tuple[str, ...]
    summary: str
    description: str
    check: Check | None = None
    gate: Gate | None = None
    screen: dict[str, Any] | Quiet | None = None  # a JSON Schema, or a function of the payload
    operations: tuple[str, ...] = ()  # an exchange rule: the operations it reads (none named: every one)
    on: str = "success"  # an exchange rule: "success" runs on 2xx answers only, "any" on every exchange
    concern: str = "contract"  # "security": its violations lead every report (credentials, isolation)

    def finding(self, pointer: str, message: str, hint: str = "") -> Finding:
        return _make(Finding, (self.id, self.severity, pointer, message, hint))

    def run(self, payload: Any, prefix: str = "") -> list[Finding]:
        assert self.check is not None
        hits = self.check(payload)
        if hits.__class__ is not list:
            hits = list(hits)  # a generator, run out here: an empty one builds nothing either
        if not hits:
            return []  # the common case: nothing to say, nothing built
        return self.findings_of(hits, prefix)

    def findings_of(self, hits: Iterable[Hit], prefix: str = "") -> list[Finding]:
        """The findings for what this rule's check returned (a list of hits, or a generator of them)."""
        rule_id, severity = self.id, self.severity
        # tuple.__new__ makes the named tuple without the keyword parsing of Finding(...): a third of its time
        if hits.__class__ is list and len(hits) == 1:  # the common case: one hit, no comprehension
            h = hits[0]
            return [_make(Finding, (rule_id, severity, prefix + h[0], h[1], h[2]))]
        return [_make(Finding, (rule_id, severity, prefix + h[0], h[1], h[2])) for h in hits]


_make = tuple.__new__


REGISTRY: dict[str, Rule] = {}
_PACKAGE = __name__.split(".")[0] + "."
#: where each rule was registered from (a module name), for the message when two ids clash
_ORIGIN: dict[str, str] = {}
#: called after the set of rules changed (the engine forgets what it compiled from the old set)
_LISTENERS: list[Callable[[], None]] = []

RULE_ID = re.compile(r"[A-Z][A-Z0-9]*[0-9]{3,}")
SCOPES = ("payload", "exchange", "traffic")
#: what a rule protects: "security" (credentials, isolation between orgs and sandboxes) leads a report
CONCERNS = ("security", "contract")
_CONTRACTS = (*CONTRACT_NAMES, "exchange")


class RuleError(ValueError):
    """A rule cannot be registered: a clashing id, an unknown contract or scope, a missing docstring."""


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever a rule is registered after the first use of the registry."""
    _LISTENERS.append(listener)


def _register(r: Rule, origin: str = "aep_export_contracts") -> Rule:
    if r.id in REGISTRY:
        raise RuleError(f"rule id {r.id} is registered twice: by {_ORIGIN.get(r.id, '?')} and by {origin}")
    same = next((other for other in REGISTRY.values() if other.name == r.name), None)
    if same is not None:  # a name says one problem: two rules under one name read as one in every report
        raise RuleError(f"rule {r.id} is named '{r.name}', the name of {same.id} (from {_ORIGIN.get(same.id, '?')})")
    REGISTRY[r.id] = r
    _ORIGIN[r.id] = origin
    _BY_CONTRACT.clear()
    for listener in _LISTENERS:
        listener()
    return r


def unregister(rule_id: str) -> Rule:
    """Remove a rule (a test's own, say); raises ``KeyError`` for an id no rule has."""
    removed = REGISTRY.pop(rule_id)
    _ORIGIN.pop(rule_id, None)
    _BY_CONTRACT.clear()
    for listener in _LISTENERS:
        listener()
    return removed


def meta_rule(rule_id: str, name: str, severity: str, scope: str, contracts: tuple[str, ...], summary: str,
              description: str, concern: str = "contract") -> Rule:
    """Register a rule whose findings another part of the suite makes (the engine, the check, replay)."""
    return _register(Rule(rule_id, name, Severity(severity), scope, contracts, summary, description,
                          concern=concern))


def seriousness(rule_id: str) -> int:
    """How soon a rule's violations are read in a report: security first (0), then the rest (1)."""
    found = REGISTRY.get(rule_id)
    return 0 if found is not None and found.concern == "security" else 1


def schema_rule(rule_id: str, name: str, severity: str, summary: str, description: str,
                contracts: tuple[str, ...] = ()) -> Rule:
    """Register a rule whose findings come from a JSON Schema keyword."""
    return meta_rule(rule_id, name, severity, "schema", contracts, summary, description)


def rule(rule_id: str, name: str, severity: str, contracts: tuple[str, ...] = (), *,
         scope: str = "payload", operations: tuple[str, ...] = (), on: str = "success", gate: Gate | None = None,
         screen: dict[str, Any] | Quiet | None = None, concern: str = "contract") -> Callable[[Check], Check]:
    """Register a rule: a function of a payload (or, with ``scope="exchange"``, of an ExchangeView; with
    ``scope="traffic"``, of a TrafficView: one exchange and the traffic before it) that returns or yields
    ``Hit(pointer, message, hint)``; its docstring's first line is the rule's summary and the whole
    docstring its description.

    ``contracts`` names the payloads a payload rule reads (``validate`` runs it on those); an exchange
    rule names the ``operations`` (operation ids) it has something to say about, or none for every
    one, and runs on exchanges answered with success (``on="any"``: on every exchange, whatever its
    status; the rule then decides itself). ``concern="security"`` puts its violations first in every
    report (credentials, isolation between orgs and sandboxes). ``gate`` and ``screen`` are optional sound shortcuts for
    the engine: a gate reads the raw bytes, a screen is a JSON Schema that every payload on which the
    rule has nothing to say passes, or a function of the payload that returns True only on such payloads
    (one call screens every rule that names the same function: the common case of several rules, checked
    in one pass).
    Raises ``RuleError`` for an id that is taken or malformed, an unknown contract, scope or severity.
    """
    if scope not in SCOPES:
        raise RuleError(f"rule {rule_id}: scope is one of {', '.join(SCOPES)}, not {scope!r}")
    if scope in ("exchange", "traffic"):
        contracts = contracts or ("exchange",)
    if on not in ("success", "any"):
        raise RuleError(f"rule {rule_id}: on is 'success' or 'any', not {on!r}")
    if concern not in CONCERNS:
        raise RuleError(f"rule {rule_id}: concern is one of {', '.join(CONCERNS)}, not {concern!r}")
    unknown = [c for c in contracts if c not in _CONTRACTS]
    if unknown or not contracts:
        raise RuleError(f"rule {rule_id}: contracts are some of {', '.join(CONTRACT_NAMES)}"
                        + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    if not RULE_ID.fullmatch(rule_id):
        raise RuleError(f"rule id {rule_id!r} is not upper-case letters and digits ending in three digits (ACME001)")
    if severity not in tuple(Severity):
        raise RuleError(f"rule {rule_id}: severity is error or warning, not {severity!r}")
    if screen is not None and not isinstance(screen, dict) and not callable(screen):
        raise RuleError(f"rule {rule_id}: a screen is a JSON Schema (a dict) or a function of the payload, "
                        f"not {type(screen).__name__}")

    def wrap(fn: Check) -> Check:
        origin = getattr(fn, "__module__", None) or "?"
        if not origin.startswith(_PACKAGE):
            _load()  # a user's rule: the built-in ids are registered first, so that a clash is named
        doc = (fn.__doc__ or "").strip() or (_source_docstring(fn) if origin.startswith(_PACKAGE) else "")
        if not doc:
            raise RuleError(f"rule {rule_id}: the function needs a docstring (its first line is the rule's summary)")
        summary, _, rest = doc.partition("\n")
        description = " ".join((summary + " " + rest).split())
        builtin = origin.startswith(_PACKAGE)
        check = fn if builtin else _guarded(rule_id, fn)
        quiet = screen if builtin or isinstance(screen, dict) or screen is None else _guarded_screen(screen)
        _register(Rule(rule_id, name, Severity(severity), scope, contracts, summary.strip(), description, check, gate,
                       quiet, operations, on, concern), origin)
        return fn

    return wrap


def _source_docstring(fn: Check) -> str:
    """The docstring of a built-in rule compiled to C (mypyc keeps no docstring of a function): read from the
    module's source file, which the wheel ships beside the compiled one."""
    module = sys.modules.get(getattr(fn, "__module__", ""))
    compiled, name = getattr(module, "__file__", None), getattr(fn, "__name__", "")
    if not compiled or not name:
        return ""
    path = Path(compiled)
    return _docstrings(path.with_name(path.name.split(".", 1)[0] + ".py")).get(name, "")


@cache
def _docstrings(source: Path) -> dict[str, str]:
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return {}
    return {node.name: ast.get_docstring(node) or "" for node in tree.body if isinstance(node, ast.FunctionDef)}


def _guarded(rule_id: str, fn: Check) -> Check:
    """A user's rule that raises on a payload says so as its own finding, instead of stopping the run (or, in
    the reference server, which leaves users' findings out, turning an answer into a 500)."""

    def check(payload: Any) -> list[Hit]:
        try:
            return list(fn(payload))
        except Exception as exc:  # a user's code: whatever it raises is reported, not propagated
            return [Hit("", f"rule {rule_id} raised {type(exc).__name__}: {str(exc)[:200]}",
                        "make the rule return no hit for a payload it does not expect")]

    check.__doc__, check.__name__ = fn.__doc__, getattr(fn, "__name__", "check")
    return check


_SCREENS: dict[Any, Quiet] = {}


def _guarded_screen(screen: Quiet) -> Quiet:
    """A user's screen in Python that raises lets its rules run (one wrapper per function: the rules that share
    the function still share one call)."""
    wrapped = _SCREENS.get(screen)
    if wrapped is None:
        def wrapped(payload: Any) -> bool:
            try:
                return screen(payload) is True
            except Exception:  # a user's code: a screen that cannot say lets the rules decide
                return False

        _SCREENS[screen] = wrapped
    return wrapped


def is_builtin(rule_id: str) -> bool:
    """Whether a rule is one of this package's own (not a user's, from a plugin or ``--rules``)."""
    _load()
    return _ORIGIN.get(rule_id, "").startswith(_PACKAGE) or _ORIGIN.get(rule_id) == _PACKAGE.rstrip(".")


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


#: the entry-point group through which installed packages offer rules (each entry names a module)
ENTRY_POINT_GROUP = "aep_export_contracts.rules"
_LOADED = False
_PLUGINS: set[str] = set()


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    from . import dataset, exchange, job, listing, live, request, schema  # noqa: F401

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        load_rules(entry.value.partition(":")[0], origin=f"entry point {entry.name!r}")


def loaded_modules() -> list[str]:
    """The rule modules ``load_rules`` has loaded (dotted names, or the paths of .py files), in a stable order:
    what another process loads to judge with the same rules."""
    return sorted(_PLUGINS)


def load_rules(module: str, *, origin: str | None = None) -> None:
    """Import a module of rules (a dotted name, or the path of a .py file); its ``@rule`` functions register.

    Raises ``RuleError`` when the module cannot be imported or its rules cannot be registered.
    """
    _load()
    key = str(Path(module).resolve()) if module.endswith(".py") else module
    if key in _PLUGINS:
        return
    try:
        if module.endswith(".py"):
            path = Path(module)
            if not path.is_file():
                raise RuleError(f"cannot load rules from {module}: no such file")
            spec = importlib.util.spec_from_file_location(f"aec_rules_{path.stem}", path)
            if spec is None or spec.loader is None:
                raise RuleError(f"cannot load rules from {module}: not a Python module")
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = loaded
            spec.loader.exec_module(loaded)
        else:
            importlib.import_module(module)
    except RuleError:
        raise
    except Exception as exc:  # a user's module: whatever it raises is reported, not propagated
        where = f" ({origin})" if origin else ""
        raise RuleError(f"cannot load rules from {module}{where}: {type(exc).__name__}: {exc}") from exc
    _PLUGINS.add(key)
