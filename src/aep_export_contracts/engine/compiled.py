"""Compiled validators: the contracts (and their closed forms) in jsonschema-rs, the rules' screens
folded into one validator per contract, and python-jsonschema as the explaining engine.

This is the speed machinery of the engine. Every shortcut here is sound (a test proves it against
unverified mutants): switching one off changes no verdict, only the time it takes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, NamedTuple
from urllib.parse import urljoin

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker

from ..rules import CLOSED, Rule, on_change, rules_for
from ..spec import contracts
from ..spec.formats import is_rfc3339

__all__ = ["END_OF_INPUT", "clear_caches", "fold", "for_rust", "has_no_unknown_key"]

FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checks("date-time")(is_rfc3339)


#: "End of input" written so that Python's ``re`` and ECMA-262 read it alike (Python's ``$`` also
#: matches before a final newline). A lookaround sends jsonschema-rs to its backtracking engine;
#: Rust's ``$`` (no multiline flag) already means end of input, so the Rust schemas say ``$``.
END_OF_INPUT = "(?![\\s\\S])"
_DATA_KEYWORDS = frozenset({"const", "enum", "examples", "default"})


def for_rust(node: Any) -> Any:
    """A copy of a schema whose patterns ending in END_OF_INPUT end in ``$`` (the same language)."""
    if isinstance(node, list):
        return [for_rust(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: v if k in _DATA_KEYWORDS else for_rust(v) for k, v in node.items()}
    pattern = node.get("pattern")
    if isinstance(pattern, str) and pattern.endswith(END_OF_INPUT):
        head = pattern[: -len(END_OF_INPUT)]
        if (len(head) - len(head.rstrip("\\"))) % 2 == 0:  # the group's "(" is not an escaped character
            out["pattern"] = head + "$"
    return out


@cache
def _rust_schemas(closed: bool) -> dict[str, Any]:
    if not closed:
        return {uri: for_rust(s) for uri, s in contracts.schemas_by_uri().items()}
    bound = _bounds_numbers()
    return {uri: for_rust(_bounded(s) if bound else s) for uri, s in contracts.closed_schemas_by_uri().items()}


#: orjson reads an integer exactly down to -2**63 and up to 2**64 - 1; a longer one comes back as a float at
#: least 2**63 in size. The closed contracts hold every number within this bound (in Rust, where the
#: screened validator compares it anyway), so that a payload they pass holds no integer read as a float.
EXACT_BOUND = 9_000_000_000_000_000_000
#: the keywords a closed contract may use for the bound to be added: each one only narrows what a schema
#: accepts when its subschemas narrow (no not, oneOf or if, where a narrower subschema may accept more)
_BOUNDABLE = frozenset({"$defs", "$id", "$ref", "$schema", "additionalProperties", "allOf", "anyOf", "const",
                        "default", "description", "enum", "examples", "format", "items", "maxItems", "maxLength",
                        "maximum", "minItems", "minLength", "minimum", "pattern", "prefixItems", "properties",
                        "required", "title", "type", "uniqueItems"})
_NUMERIC = frozenset({"integer", "number"})
#: where a boundable schema keeps its subschemas: maps of them, lists of them, and one
_SUB_MAPS, _SUB_LISTS, _SUB_ONE = ("properties", "$defs"), ("allOf", "anyOf", "prefixItems"), ("items", "additionalProperties")


def _schema_nodes(node: Any) -> Iterable[Any]:
    """Every subschema of a schema, itself first (the schemas under properties, items, anyOf and the rest)."""
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, dict):
            continue
        for key in _SUB_MAPS:
            stack.extend((node.get(key) or {}).values())
        for key in _SUB_LISTS:
            stack.extend(node.get(key) or ())
        for key in _SUB_ONE:
            if key in node:
                stack.append(node[key])


@cache
def _bounds_numbers() -> bool:
    """Whether the closed contracts carry the bound: every one uses only keywords under which the bound narrows
    what it accepts."""
    return all(isinstance(node, bool) or node.keys() <= _BOUNDABLE
               for schema in contracts.closed_schemas_by_uri().values() for node in _schema_nodes(schema))


def _may_be_number(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    return kind is None or (kind in _NUMERIC if isinstance(kind, str) else bool(_NUMERIC & set(kind)))


def _bounded(node: Any) -> Any:
    """A copy of a (boundable) schema whose every subschema that may meet a number holds it within the bound."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for key in _SUB_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {name: _bounded(sub) for name, sub in out[key].items()}
    for key in _SUB_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_bounded(sub) for sub in out[key]]
    for key in _SUB_ONE:
        if key in out:
            out[key] = _bounded(out[key])
    if _may_be_number(node):
        high, low = out.get("maximum"), out.get("minimum")
        out["maximum"] = high if isinstance(high, int | float) and high <= EXACT_BOUND else EXACT_BOUND
        out["minimum"] = low if isinstance(low, int | float) and low >= -EXACT_BOUND else -EXACT_BOUND
    return out


@cache
def exact_when_screened(contract: str) -> bool:
    """Whether a payload that the screened validator of ``contract`` passes holds no integer that orjson read as
    a float (then it needs no exact reading): the closed contracts carry the bound, and every value such a
    payload can hold meets a subschema that bounds it (no value of any type the contract leaves open)."""
    if not _bounds_numbers():
        return False
    by_uri = contracts.closed_schemas_by_uri()
    known: dict[int, bool] = {}

    def covered(node: Any, base: str) -> bool:
        if node is False:
            return True
        if not isinstance(node, dict):
            return False  # true: anything at all
        if id(node) not in known:
            known[id(node)] = True  # (met again inside itself: its answer is the one being worked out)
            known[id(node)] = _covered(node, base)
        return known[id(node)]

    def _covered(node: dict[str, Any], base: str) -> bool:
        if "enum" in node or "const" in node:  # only the values listed (the contracts list no number there)
            values = node.get("enum", [node.get("const")])
            return all(isinstance(v, str | bool) or v is None for v in values)
        if "$ref" in node:
            target, base_of = _resolve(by_uri, base, node["$ref"])
            if target is not None and covered(target, base_of):
                return True
        if any(covered(sub, base) for sub in node.get("allOf", ())):
            return True
        if node.get("anyOf") and all(covered(sub, base) for sub in node["anyOf"]):
            return True
        kind = node.get("type")
        kinds = {kind} if isinstance(kind, str) else set(kind) if isinstance(kind, list) else None
        if kinds is not None and not kinds & {"object", "array"}:
            return True  # scalars: a number among them is bounded here
        if kinds is None or "object" in kinds:
            if "additionalProperties" not in node:
                return False
            members = [*(node.get("properties") or {}).values(), node["additionalProperties"]]
            if not all(covered(sub, base) for sub in members):
                return False
        arrays = kinds is None or "array" in kinds
        return not arrays or ("items" in node and covered(node["items"], base)
                              and all(covered(sub, base) for sub in node.get("prefixItems", ())))

    uri = contracts.schema(contract)["$id"]
    return covered(by_uri[uri], uri)


def _resolve(by_uri: dict[str, Any], base: str, ref: str) -> tuple[Any, str]:
    """The subschema a $ref names (None when it names none), and the URI of its document."""
    document, _, fragment = urljoin(base, ref).partition("#")
    node = by_uri.get(document)
    for step in (fragment.split("/")[1:] if fragment else ()):
        node = node.get(step.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) else None
    return node, document


@cache
def _registry(closed: bool) -> Any:
    """Every contract (or every closed contract) in a jsonschema-rs registry, offline."""
    return jsonschema_rs.Registry(list(_rust_schemas(closed).items()))


@cache
def _compiled(contract: str, closed: bool) -> Any:
    # masked: jsonschema-rs's own messages (never shown: the findings are written from its errors' kinds) carry no
    # value of the payload, and an error is made without writing one out
    return jsonschema_rs.validator_for(_rust_schemas(closed)[contracts.schema(contract)["$id"]],
                                       validate_formats=True, registry=_registry(closed), mask="(masked)")


#: the findings of errors of ``_fast(contract)`` already explained, by (contract, schema path, instance path,
#: class and value of the instance), for an instance that is a short string, an integer, a boolean or null: the
#: same mistake comes in payload after payload, and its explanation is a function of these alone. Forgotten with
#: the compiled validators (the schemas may have changed), and whenever it holds ``EXPLAINED_MAX`` entries.
EXPLAINED: dict[tuple[Any, ...], tuple[Any, ...]] = {}
EXPLAINED_MAX = 4096


def _fast(contract: str) -> Any:
    """The contract, compiled (formats on)."""
    return _compiled(contract, False)


def _closed(contract: str) -> Any:
    """The contract with every object closed: passes only when no unknown key is present."""
    return _compiled(contract, True)


def _passes(is_valid: Any, payload: Any) -> bool:
    """A compiled validator's verdict (its ``is_valid``); a value the Rust side cannot take does not pass."""
    try:
        return bool(is_valid(payload))
    except (ValueError, TypeError, OverflowError, RecursionError):
        return False


def _keys_schema(tree: contracts.KeyTree) -> dict[str, Any]:
    """A JSON Schema that holds a value to the keys a contract knows and to nothing else: the shape of
    ``KeyTree.walk`` (an object under a map's schema, the keys of an object, the items of an array)."""
    out: dict[str, Any] = {}
    if tree.open_values is not None:
        out["additionalProperties"] = _keys_schema(tree.open_values)
    elif tree.is_object:
        out["properties"] = {key: _keys_schema(sub) for key, sub in tree.keys.items()}
        out["additionalProperties"] = False
    if tree.items is not None:
        out["items"] = _keys_schema(tree.items)
    return out


@cache
def _keys_only(contract: str) -> Any:
    return jsonschema_rs.validator_for({"$schema": "https://json-schema.org/draft/2020-12/schema",
                                        **_keys_schema(contracts.key_tree(contract))}).is_valid


def has_no_unknown_key(payload: Any, contract: str) -> bool:
    """True when every key of the payload is one the contract names, whether or not the payload is valid
    (checked in Rust: what the rules about unknown keys would find by walking it)."""
    return _passes(_keys_only(contract), payload)


@cache
def _explainer(contract: str) -> Draft202012Validator:
    return Draft202012Validator(contracts.schema(contract), registry=contracts.registry(),
                                format_checker=FORMAT_CHECKER)


class Checks(NamedTuple):
    """Rules as the plain loop runs them: each unscreened rule's check, and the rules screened by a function
    of the payload gathered by that function (one call of it screens them all)."""

    plain: tuple[tuple[Any, Rule], ...]
    screened: tuple[tuple[Any, tuple[tuple[Any, Rule], ...]], ...]


def _checks(rules: Iterable[Rule]) -> Checks:
    plain: list[tuple[Any, Rule]] = []
    by_screen: dict[Any, list[tuple[Any, Rule]]] = {}
    for r in rules:
        if r.screen is None:
            plain.append((r.check, r))
        else:
            by_screen.setdefault(r.screen, []).append((r.check, r))
    return Checks(tuple(plain), tuple((screen, tuple(members)) for screen, members in by_screen.items()))


class _Screened(NamedTuple):
    contract: str
    is_valid: Any  # True when the payload is valid and every screened rule has nothing to say
    rules: tuple[Rule, ...]  # the contract's rules no screen covers
    record_rules: tuple[Rule, ...]  # for a list: the job rules no screen covers, run on each record
    plain: bool  # no gate among the rules (nor the records' rules): the rules simply run in turn
    checks: Checks  # ``rules`` for the plain loop: those with no screen, and those screened in Python by screen
    record_checks: Checks | None  # ``record_rules`` likewise (a list's records; None for another contract)
    open_rules: tuple[Rule, ...]  # every rule but those the closed contract screens (unknown keys)
    records: Any  # for a list: is_valid of the job rules' screens applied to every record; else None
    screens: Any  # is_valid of every JSON Schema screen of the rules, without the contract (None: there is none)
    closed_rules: bool  # some rule is screened by the closed contract (it reports unknown keys)
    exact: bool  # a payload is_valid passes holds no integer orjson read as a float (exact_when_screened)


def clear_caches() -> None:
    """Forget every compiled validator and every schema read from disk, so that the next validation
    reads the contracts again (after they were changed in-process). The API facts of ``spec.api``
    (paths, headers, statuses) are read again only when the overlay in use changes (``use_overlay``)."""
    contracts.forget()
    _forget_compiled()


def _forget_compiled() -> None:
    for cached in (_compiled, _registry, _explainer, _rust_schemas, _keys_only, _bounds_numbers, exact_when_screened):
        cached.cache_clear()
    EXPLAINED.clear()
    _forget_rules()


contracts.on_reload(_forget_compiled)


def _forget_rules() -> None:
    """Forget what was compiled from the set of rules (their screens, the rules of each contract)."""
    _screened.cache_clear()
    _READY.clear()


def _screening(rules: Iterable[Rule]) -> list[Rule]:
    """The rules screened by a JSON Schema of their own (compiled into the validator)."""
    return [r for r in rules if isinstance(r.screen, dict) and r.screen is not CLOSED]


def in_python(r: Rule) -> bool:
    """Whether a rule runs in Python on a payload the screened validator passes: no JSON Schema screens it."""
    return not isinstance(r.screen, dict)


#: keywords whose meaning depends on their siblings: a schema holding one is never taken apart by ``fold``
_SIBLING_BOUND = frozenset({"additionalProperties", "patternProperties", "unevaluatedProperties", "unevaluatedItems",
                            "prefixItems", "$dynamicRef", "$dynamicAnchor", "$id", "$anchor"})


def fold(schemas: Iterable[Any]) -> Any:
    """One schema that a value passes exactly when it passes every one of ``schemas`` (their ``allOf``), with
    the subschemas of each property, and of the items, gathered in one place: the validator then walks the
    value once, not once per schema. A schema with a keyword that reads its siblings is kept whole."""
    schemas = list(schemas)
    if len(schemas) == 1 and (not isinstance(schemas[0], dict) or not {"properties", "items", "allOf"} & schemas[0].keys()):
        return schemas[0]  # nothing to gather
    properties: dict[str, list[Any]] = {}
    items: list[Any] = []
    whole: list[Any] = []
    for schema in schemas:
        if not isinstance(schema, dict) or _SIBLING_BOUND & schema.keys():
            whole.append(schema)
            continue
        rest = dict(schema)
        for name, sub in rest.pop("properties", {}).items():
            properties.setdefault(name, []).append(sub)
        if "items" in rest:
            items.append(rest.pop("items"))
        if set(rest) == {"allOf"}:  # its members are gathered with this level's own
            nested = fold(rest["allOf"])
            for name, sub in nested.pop("properties", {}).items():
                properties.setdefault(name, []).append(sub)
            if "items" in nested:
                items.append(nested.pop("items"))
            rest = nested
        if rest:
            whole.append(rest)
    out: dict[str, Any] = {}
    if properties:
        out["properties"] = {name: fold(subs) for name, subs in properties.items()}
    if items:
        out["items"] = fold(items)
    if whole:
        out["allOf"] = whole
    return out


def _compile_screen(screen: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for({"$schema": "https://json-schema.org/draft/2020-12/schema", **for_rust(screen)},
                                       validate_formats=True).is_valid


@cache
def _screened(contract: str) -> _Screened:
    """The closed contract and its rules' screens, compiled into one Rust validator.

    The closed contract (every object closed to the keys it names) accepts a subset of what the
    contract accepts, and it is the screen of the rules that warn about unknown keys. For a list, the
    job rules' screens apply to every record, and they are also compiled alone: when the whole fails,
    they say whether the records' screened rules have something to say.
    """
    own = _screening(rules_for(contract))
    branches: list[Any] = [r.screen for r in own]
    listing = contract == "export-job-list"
    records = _screening(rules_for("export-job")) if listing else []
    records_screen = None
    if records:
        records_screen = {"properties": {"records": {"items": {"allOf": [r.screen for r in records]}}}}
        branches.append(records_screen)
    rules = tuple(filter(in_python, rules_for(contract)))
    record_rules = tuple(filter(in_python, rules_for("export-job"))) if listing else ()
    plain = all(r.gate is None for r in (*rules, *record_rules))
    folded = fold(branches)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "allOf": [{"$ref": contracts.schema(contract)["$id"]}, for_rust(folded)]}
    validator = jsonschema_rs.validator_for(schema, validate_formats=True, registry=_registry(True))
    open_rules = tuple(r for r in rules_for(contract) if r.screen is not CLOSED)
    return _Screened(contract, validator.is_valid, rules, record_rules, plain, _checks(rules),
                     _checks(record_rules) if listing else None,
                     open_rules,
                     _compile_screen(fold([records_screen])) if records_screen else None,
                     _compile_screen(folded) if branches else None,
                     any(r.screen is CLOSED for r in (*rules_for(contract), *(rules_for("export-job") if listing else ()))),
                     exact_when_screened(contract))


on_change(_forget_rules)

#: _screened() of each contract validate_bytes has seen, for its quick path (a dict read is cheaper than the cache)
_READY: dict[str | None, _Screened] = {}
