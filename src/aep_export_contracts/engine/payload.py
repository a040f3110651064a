"""Validate a payload against a contract: a fast path, and explanations when it fails.

The fast path is jsonschema-rs with format validation on; a payload it accepts costs nothing more
than the semantic rules. A payload it rejects is explained by python-jsonschema (same schemas,
same offline registry, the project's own RFC 3339 checker), reduced to one finding per problem.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any, NamedTuple

import jsonschema_rs
import orjson
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from ..findings import DEFAULT_POLICY, Finding, Policy, Report
from ..rules import CLOSED, Rule, on_change, rules_for
from ..rules import schema as S
from ..spec import contracts
from ..spec.contracts import CONTRACT_NAMES, escape
from ..spec.formats import fields_problem, is_field_list, is_rfc3339, rfc3339_problem
from .yamlload import load_yaml

__all__ = ["detect_contract", "explain", "parse_json", "validate", "validate_bytes", "validate_file"]

#: the deepest nesting a payload may have: what orjson parses (1,024 nested arrays or objects), so that
#: a value and its JSON bytes get the same verdict
MAX_DEPTH = 1023
#: the most digits an integer may have: Python writes and reads no longer one as JSON text
MAX_DIGITS = 4300
_MAX_INT = 10**MAX_DIGITS
MAX_STRING = 1 << 20
_NAMES = frozenset(CONTRACT_NAMES)

#: Keys that no source knows but that people write, and what they meant.
ALIASES = {
    "fromTimestamp": "fromIngestTimestamp",
    "toTimestamp": "toIngestTimestamp",
    "dataSetId": "datasetId",
    "segmentID": "segmentId",
    "segmentNS": "segmentNs",
    "segmentPerBatches": "segmentPerBatch",
}

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
    by_uri = contracts.closed_schemas_by_uri() if closed else contracts.schemas_by_uri()
    return {uri: for_rust(s) for uri, s in by_uri.items()}


def _registry_rs() -> Any:
    return jsonschema_rs.Registry(list(_rust_schemas(False).items()))


@cache
def _fast(contract: str) -> Any:
    return jsonschema_rs.validator_for(_rust_schemas(False)[contracts.schema(contract)["$id"]],
                                       validate_formats=True, registry=_registry_rs())


@cache
def _closed_registry() -> Any:
    return jsonschema_rs.Registry(list(_rust_schemas(True).items()))


@cache
def _closed(contract: str) -> Any:
    """The contract with every object closed: passes only when no unknown key is present."""
    return jsonschema_rs.validator_for(_rust_schemas(True)[contracts.schema(contract)["$id"]],
                                       validate_formats=True, registry=_closed_registry())


def _passes(is_valid: Any, payload: Any) -> bool:
    """A compiled validator's verdict (its ``is_valid``); a value the Rust side cannot take does not pass."""
    try:
        return bool(is_valid(payload))
    except (ValueError, TypeError, OverflowError, RecursionError):
        return False


def has_no_unknown_key(payload: Any, contract: str) -> bool:
    """True when every key of the payload is one the contract names (checked in Rust)."""
    return _passes(_closed(contract).is_valid, payload)


@cache
def _explainer(contract: str) -> Draft202012Validator:
    return Draft202012Validator(contracts.schema(contract), registry=contracts.registry(),
                                format_checker=FORMAT_CHECKER)


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, str):
        text = repr(value if len(value) <= limit else value[:limit] + "…")
    elif isinstance(value, dict):
        text = "an object"
    elif isinstance(value, list):
        text = "an array"
    else:
        text = repr(value)
    return text if len(text) <= limit + 10 else text[:limit] + "…"


_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"),
               (dict, "object"))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return next((name for cls, name in _JSON_TYPES if isinstance(value, cls)), type(value).__name__)


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + escape(str(p)) for p in path)


def _did_you_mean(key: str, known: Iterable[str]) -> str:
    known = list(known)
    if key in ALIASES and ALIASES[key] in known:
        return f"did you mean '{ALIASES[key]}'?"
    lowered = {k.lower(): k for k in known}
    if key.lower() in lowered:
        return f"did you mean '{lowered[key.lower()]}'?"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "remove it; known keys here: " + ", ".join(sorted(known)) if known else "remove it"


ERROR_SHAPES_HINT = "send {error_code, message}, {type, status, title, detail} or {message, statusCode, retryAfterMs}"


def _problem(keyword: str, path: list[Any], inst: Any, bound: Any, contract: str) -> Iterator[Finding]:
    """Findings for one schema problem, whichever engine found it (one builder for both paths)."""
    where = _pointer(path)
    if keyword == "required":
        yield S.REQUIRED.finding(f"{where}/{escape(bound)}", f"required field '{bound}' is missing", f"add '{bound}'")
    elif keyword == "additionalProperties":
        known = _known_keys(contract, path)
        for key in bound:
            yield S.UNKNOWN_REQUEST_KEY.finding(f"{where}/{escape(str(key))}", f"unknown key {_short(key)} in a request",
                                                _did_you_mean(str(key), known))
    elif keyword == "type":
        expected_text = " or ".join(bound) if isinstance(bound, list) else str(bound)
        yield S.WRONG_TYPE.finding(where, f"expected {expected_text}, got {_json_type(inst)}"
                                   + ("" if isinstance(inst, dict | list) else f" {_short(inst)}"),
                                   f"send a JSON {expected_text}")
    elif keyword in ("enum", "const"):
        hint = "use one of: " + ", ".join(str(a) for a in bound)
        if isinstance(inst, str):
            for a in bound:
                if isinstance(a, str) and a.lower() == inst.lower():
                    hint = f"did you mean {a!r}? values are case-sensitive"
        yield S.NOT_ALLOWED.finding(where, f"{_short(inst)} is not an allowed value", hint)
    elif keyword == "format":
        problem = rfc3339_problem(inst) if isinstance(inst, str) else None
        yield S.TIMESTAMP.finding(where, f"{_short(inst)} {problem or 'is not an RFC 3339 date-time'}",
                                  "write e.g. 2019-09-01T00:00:00Z or 2018-10-25T13:22:04-07:00")
    elif keyword == "pattern":
        yield from _pattern_findings(path, inst)
    elif keyword == "uniqueItems" and isinstance(inst, list):
        seen: list[Any] = []
        for i, item in enumerate(inst):
            if item in seen:
                yield S.UNIQUE_STATUS.finding(f"{where}/{i}", f"{_short(item)} appears more than once",
                                              "list each status once")
            seen.append(item)
    else:
        yield S.CONSTRAINT.finding(where, _constraint_message(keyword, bound, inst), "")


def _findings_for(err: ValidationError, contract: str) -> Iterator[Finding]:
    """python-jsonschema's error, as the problem it names."""
    path = list(err.absolute_path)
    kind = str(err.validator)
    inst: Any = err.instance
    bound: Any = err.validator_value
    if kind in ("anyOf", "oneOf") and err.context:
        if contract == "error" and not path:
            yield S.ERROR_SHAPE.finding(_pointer(path), "the error body matches none of the platform's error shapes",
                                        ERROR_SHAPES_HINT)
            return
        best = best_match(err.context)
        if best is not None:
            yield from _findings_for(best, contract)
        return
    if kind == "required" and isinstance(inst, dict):
        for name in bound:
            if name not in inst:
                yield from _problem("required", path, inst, name, contract)
        return
    if kind == "additionalProperties" and isinstance(inst, dict):
        known = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
        yield from _problem(kind, path, inst, [k for k in inst if k not in known], contract)
        return
    if kind == "const":
        bound = [bound]
    yield from _problem(kind, path, inst, bound, contract)


def _pattern_findings(path: list[Any], inst: Any) -> Iterator[Finding]:
    where = _pointer(path)
    if path and path[-1] == "fields" and isinstance(inst, str):
        name = ".".join(str(p) for p in path)
        yield S.FIELDS_SYNTAX.finding(where, f"'{name}' {fields_problem(inst)}",
                                      "write comma-separated dot paths, e.g. 'identities.id,personalEmail.address'")
        return
    yield S.CONSTRAINT.finding(where, f"{_short(inst)} does not have the required form", "")


def _constraint_message(kind: Any, bound: Any, inst: Any) -> str:
    texts = {
        "minLength": f"must not be shorter than {bound} character(s)",
        "maxLength": f"must not be longer than {bound} characters",
        "minItems": f"must have at least {bound} item(s)",
        "maxItems": f"must have at most {bound} items",
        "minimum": f"must be at least {bound}",
        "maximum": f"must be at most {bound}",
    }
    return f"{_short(inst)} {texts.get(str(kind), f'breaks the {kind!r} constraint ({_short(bound)})')}"


def _known_keys(contract: str, path: list[Any]) -> list[str]:
    node = contracts.key_tree(contract)
    for step in path:
        if isinstance(step, int):
            if node.items is None:
                return []
            node = node.items
        else:
            sub = node.keys.get(step)
            if sub is None:
                return []
            node = sub
    return list(node.keys)


#: jsonschema-rs error kinds, by the JSON Schema keyword they report, and where the kind keeps its bound
RS_KINDS = {"Required": ("required", "property"), "AdditionalProperties": ("additionalProperties", "unexpected"),
            "Type": ("type", "types"), "Enum": ("enum", "options"), "Format": ("format", "format"),
            "Pattern": ("pattern", "pattern"), "UniqueItems": ("uniqueItems", None)}


def _rs_findings(err: Any, contract: str) -> Iterator[Finding]:
    """jsonschema-rs's error, as the problem it names (an anyOf: the branch with the fewest errors)."""
    path = list(err.instance_path)
    kind = err.kind
    name = type(kind).__name__
    inst: Any = err.instance
    if name in ("AnyOf", "OneOfNotValid"):
        if contract == "error" and not path:
            yield S.ERROR_SHAPE.finding(_pointer(path), "the error body matches none of the platform's error shapes",
                                        ERROR_SHAPES_HINT)
            return
        branches = [b for b in (getattr(kind, "context", None) or []) if b]
        if branches:
            for sub in min(branches, key=len):
                yield from _rs_findings(sub, contract)
            return
    if name in ("BacktrackLimitExceeded", "RegexEngineFailure"):
        # the Rust engine gave up on a huge value: Python's engine decides the same pattern
        if not (path and path[-1] == "fields" and isinstance(inst, str) and is_field_list(inst)):
            yield from _pattern_findings(path, inst)
        return
    if name == "Constant":
        yield from _problem("const", path, inst, [kind.expected_value], contract)
        return
    keyword, attribute = RS_KINDS.get(name, (str(getattr(kind, "name", name)), "limit"))
    bound: Any = getattr(kind, attribute, None) if attribute else None
    if name in ("Type", "Enum", "AdditionalProperties"):
        bound = [str(b) for b in bound or ()] if name == "Type" else list(bound or ())
    yield from _problem(keyword, path, inst, bound, contract)


def explain(payload: Any, contract: str) -> list[Finding]:
    """The schema findings for a payload, one per problem (jsonschema-rs errors, best branch of an anyOf)."""
    try:
        errors = list(_fast(contract).iter_errors(payload))
    except (ValueError, TypeError, OverflowError, RecursionError):
        return explain_reference(payload, contract)
    out: list[Finding] = []
    for err in errors:
        out.extend(_rs_findings(err, contract))
    return out


def explain_reference(payload: Any, contract: str) -> list[Finding]:
    """The same findings from python-jsonschema (best match): the independent second engine."""
    try:
        errors = list(_explainer(contract).iter_errors(payload))
    except RecursionError:
        return [S.TOO_DEEP.finding("", "the payload nests too deeply to validate", "")]
    errors.sort(key=lambda e: (list(map(str, e.absolute_path)), str(e.validator)))
    out: list[Finding] = []
    for err in errors:
        out.extend(_findings_for(err, contract))
    return out


def _sanity(payload: Any) -> list[Finding]:
    """Findings for values JSON cannot carry, too-deep nesting and oversized strings."""
    out: list[Finding] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(payload, ())]
    while stack:
        value, path = stack.pop()
        cls = value.__class__
        if cls is str:
            if len(value) > MAX_STRING:
                out.append(S.OVERSIZED.finding(_pointer(path), f"a string of {len(value):,} characters", ""))
            if not value.isascii() and _surrogate(value):
                out.append(_lone_surrogate(path))
            continue
        if cls is int:
            if not -_MAX_INT < value < _MAX_INT:
                out.append(S.NOT_JSON.finding(_pointer(path), f"an integer of more than {MAX_DIGITS:,} digits "
                                              "has no JSON text form here", "send a smaller number"))
            continue
        if cls is bool or value is None:
            continue
        if len(path) > MAX_DEPTH:
            out.append(S.TOO_DEEP.finding(_pointer(path), f"nesting deeper than {MAX_DEPTH} levels",
                                          "flatten the payload"))
            continue
        if cls is dict:
            for key, sub in value.items():
                if key.__class__ is not str:
                    out.append(S.NOT_JSON.finding(_pointer(path), f"object key {_short(key)} is not a string", ""))
                    continue
                if not key.isascii() and _surrogate(key):
                    out.append(_lone_surrogate((*path, key)))
                    continue
                stack.append((sub, (*path, key)))
        elif cls is list or cls is tuple:
            stack.extend((sub, (*path, i)) for i, sub in enumerate(value))
        elif isinstance(value, float):
            if not math.isfinite(value):
                out.append(S.NOT_JSON.finding(_pointer(path), f"{value} is not a JSON number",
                                              "JSON has no NaN or Infinity: send null or a number"))
        elif isinstance(value, str):
            stack.append((str(value), path))
        elif isinstance(value, int) and not isinstance(value, bool):
            stack.append((int(value), path))
        elif isinstance(value, dict | list | tuple):
            stack.append((dict(value) if isinstance(value, dict) else list(value), path))
        elif not isinstance(value, bool | int):
            out.append(S.NOT_JSON.finding(_pointer(path), f"a {type(value).__name__} is not a JSON value", ""))
    return out


def _surrogate(text: str) -> bool:
    """True when the text holds a lone surrogate (UTF-8, and so JSON text, cannot carry it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _lone_surrogate(path: tuple[Any, ...]) -> Finding:
    return S.NOT_JSON.finding(_pointer(path).encode("utf-8", "backslashreplace").decode("ascii"),
                              "a string holds a lone surrogate, which JSON text cannot carry",
                              "send valid Unicode text")


class _Screened(NamedTuple):
    contract: str
    is_valid: Any  # True when the payload is valid and every screened rule has nothing to say
    rules: tuple[Rule, ...]  # the contract's rules no screen covers
    record_rules: tuple[Rule, ...]  # for a list: the job rules no screen covers, run on each record
    plain: bool  # no gate among the rules and no records: the rules simply run in turn
    screens: tuple[tuple[Any, Rule], ...]  # each screened rule with its own screen's is_valid
    closed_rules: tuple[Rule, ...]  # the rules the closed contract screens (unknown keys)
    records: Any  # for a list: is_valid of the job rules' screens applied to every record; else None


def clear_caches() -> None:
    """Forget every compiled validator and every schema read from disk, so that the next validation
    reads the contracts again (after they were changed in-process). The API facts of ``spec.api``
    (paths, headers, statuses) are read once at import and stay."""
    for cached in (contracts._files, contracts.registry, contracts.openapi_document, contracts.closed_schemas_by_uri,
                   contracts.key_tree, contracts.required_paths, _fast, _closed, _closed_registry, _explainer,
                   _rust_schemas):
        clear = getattr(cached, "cache_clear", None)  # a test may stand a plain function in for one
        if clear is not None:
            clear()
    _forget_rules()


def _forget_rules() -> None:
    """Forget what was compiled from the set of rules (their screens, the rules of each contract)."""
    _screened.cache_clear()
    _READY.clear()


def _screening(rules: Iterable[Rule]) -> list[Rule]:
    return [r for r in rules if r.screen is not None and r.screen is not CLOSED]


def _compile_screen(screen: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for({"$schema": "https://json-schema.org/draft/2020-12/schema", **for_rust(screen)},
                                       validate_formats=True).is_valid


@cache
def _screened(contract: str) -> _Screened:
    """The closed contract and its rules' screens, compiled into one Rust validator.

    The closed contract (every object closed to the keys it names) accepts a subset of what the
    contract accepts, and it is the screen of the rules that warn about unknown keys. Each screen
    is also compiled alone: when the whole fails, they say which rules have something to say.
    """
    own = _screening(rules_for(contract))
    branches: list[dict[str, Any]] = [r.screen for r in own]  # type: ignore[misc]
    records = _screening(rules_for("export-job")) if contract == "export-job-list" else []
    records_screen = None
    if records:
        records_screen = {"properties": {"records": {"items": {"allOf": [r.screen for r in records]}}}}
        branches.append(records_screen)
    rules = tuple(r for r in rules_for(contract) if r.screen is None)
    record_rules = tuple(r for r in rules_for("export-job") if r.screen is None) if records else ()
    plain = contract != "export-job-list" and all(r.gate is None for r in rules)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "allOf": [{"$ref": contracts.schema(contract)["$id"]}, *map(for_rust, branches)]}
    validator = jsonschema_rs.validator_for(schema, validate_formats=True, registry=_closed_registry())
    screens = tuple((_compile_screen(r.screen), r) for r in own)  # type: ignore[arg-type]
    closed_rules = tuple(r for r in rules_for(contract) if r.screen is CLOSED)
    return _Screened(contract, validator.is_valid, rules, record_rules, plain, screens, closed_rules,
                     _compile_screen(records_screen) if records_screen else None)


on_change(_forget_rules)

#: _screened() of each contract validate_bytes has seen, for its quick path (a dict read is cheaper than the cache)
_READY: dict[str | None, _Screened] = {}


def _run(rules: tuple[Rule, ...], payload: Any, raw: bytes | None = None) -> list[Finding]:
    """The rules' findings; with ``raw``, a rule whose gate finds nothing in those bytes is skipped."""
    out: list[Finding] = []
    for r in rules:
        if raw is not None and r.gate is not None and not r.gate(raw):
            continue
        hits = r.check(payload)  # type: ignore[misc]  # rules_for() holds rules with a check only
        if hits:  # an empty list: nothing built; a generator is always run out
            out.extend(r.findings_of(hits))
    return out


def _semantic(payload: Any, contract: str, raw: bytes | None = None, rules: tuple[Rule, ...] | None = None,
              record_rules: tuple[Rule, ...] | None = None) -> list[Finding]:
    if rules is None:
        rules = rules_for(contract)
    record_list = contract == "export-job-list"
    if record_list and record_rules is None:
        record_rules = rules_for("export-job")
    # gates pay off on payloads of ordinary size; an escape could hide a token from a gate
    gate_bytes = raw if raw is not None and len(raw) < 65536 and b"\\" not in raw else None
    out = _run(rules, payload, gate_bytes)
    if gate_bytes is not None and record_rules:
        record_rules = tuple(r for r in record_rules if r.gate is None or r.gate(gate_bytes))
    if record_list and record_rules and isinstance(payload, dict):
        records = payload.get("records")
        if isinstance(records, list):
            closed = tuple(r for r in record_rules if r.screen is CLOSED)
            for i, record in enumerate(records):
                prefix = f"/records/{i}"
                # a record the closed contract passes has no unknown key: its CLOSED-screened rules are silent
                skip = closed if closed and has_no_unknown_key(record, "export-job") else ()
                for r in record_rules:
                    if r not in skip:
                        out.extend(r.run(record, prefix))
    return out


def findings(payload: Any, contract: str, *, checked: bool = False, raw: bytes | None = None) -> list[Finding]:
    """All findings of a payload (no policy applied).

    ``checked``: the value came from a JSON parser; ``raw``: the bytes it was parsed from, which lets
    rules with a gate be skipped when the bytes show they have nothing to say.
    """
    if contract not in _NAMES:
        raise KeyError(f"unknown contract {contract!r}; known contracts: {', '.join(CONTRACT_NAMES)}")
    out = [] if checked else _sanity(payload)
    if out and any(f.rule in (S.NOT_JSON.id, S.TOO_DEEP.id) for f in out):
        return out
    out.extend(_judge(_screened(contract), payload, raw))
    return out


def _judge(screened: _Screened, payload: Any, raw: bytes | None) -> list[Finding]:
    """Schema and rule findings of a JSON value: the quiet way when the screened validator passes it."""
    return _quiet(screened, payload, raw) if _passes(screened.is_valid, payload) else _loud(screened, payload, raw)


def _quiet(screened: _Screened, payload: Any, raw: bytes | None) -> list[Finding]:
    """Findings of a payload that passed the screened validator: valid, and every screened rule silent."""
    if screened.plain:
        return _run(screened.rules, payload)
    return _semantic(payload, screened.contract, raw, screened.rules, screened.record_rules)


def _loud(screened: _Screened, payload: Any, raw: bytes | None) -> list[Finding]:
    """Findings of a payload the screened validator rejected: invalid, or some screen tripped."""
    contract = screened.contract
    if _passes(_closed(contract).is_valid, payload):
        unknown_keys = False  # valid, and no unknown key: some screens of the rules tripped
    elif _passes(_fast(contract).is_valid, payload):
        unknown_keys = True
    else:
        return [*explain(payload, contract), *_semantic(payload, contract, raw)]
    tripped = {r for check, r in screened.screens if not _passes(check, payload)}
    if unknown_keys:
        tripped.update(screened.closed_rules)
    rules = tuple(r for r in rules_for(contract) if r.screen is None or r in tripped)
    all_records = screened.records is not None and (unknown_keys or not _passes(screened.records, payload))
    return _semantic(payload, contract, raw, rules, None if all_records else screened.record_rules)


def validate(payload: Any, contract: str | None = None, *, policy: Policy = DEFAULT_POLICY,
             source: str | None = None) -> Report:
    """Validate a parsed payload against a named contract (detected from its shape when None).

    Never raises on a bad payload: every problem is a finding. Raises ``KeyError`` for an unknown
    contract name (a misuse, not a payload problem).
    """
    return _validate(payload, contract, policy, source, checked=False)


def _validate(payload: Any, contract: str | None, policy: Policy, source: str | None, checked: bool,
              raw: bytes | None = None) -> Report:
    chosen = contract or detect_contract(payload)
    if chosen is None and not checked:  # a value JSON cannot carry is that before it is any contract's
        unfit = [f for f in _sanity(payload) if f.rule in (S.NOT_JSON.id, S.TOO_DEEP.id)]
        if unfit:
            return Report.build(None, unfit, policy, source)
    if chosen is None:
        finding = S.UNDETECTED.finding("", "the payload matches none of the contracts' shapes",
                                       "name the contract with --contract (contract=...)")
        return Report.build(None, [finding], policy, source)
    return Report.build(chosen, findings(payload, chosen, checked=checked, raw=raw), policy, source)


def parse_json(data: bytes | str) -> tuple[Any, Finding | None, bool]:
    """Parse JSON text strictly (no NaN or Infinity): (value, problem, checked).

    orjson reads almost every document; ``checked`` says its value needs no sanity pass (orjson
    refuses what JSON cannot carry and nests no deeper than ``MAX_DEPTH``). What orjson refuses but
    the JSON grammar allows (an integer beyond 64 bits, a lone surrogate escape) is read by Python's
    parser and comes back unchecked, so that the value path judges it exactly as ``validate`` does.
    """
    try:
        return orjson.loads(data), None, True
    except orjson.JSONDecodeError as exc:
        detail = str(exc)
    # too deep for orjson (its wording varies by version): Python's parser may still read it, and then
    # the value path names where the nesting goes too deep, as it does for the same value
    if not (data.strip() if isinstance(data, str) else data.strip(b" \t\r\n")):
        return None, S.NOT_JSON.finding("", "the document is empty", "write a JSON value"), True
    try:
        return json.loads(data, parse_constant=_reject_constant), None, False
    except RecursionError:
        return None, S.TOO_DEEP.finding("", "the document nests too deeply to parse", "flatten the payload"), True
    except ValueError as exc:  # UnicodeDecodeError is one too
        detail = str(exc)
    return None, S.NOT_JSON.finding("", f"not valid JSON: {detail[:200]}", "fix the JSON syntax"), True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def validate_bytes(data: bytes | str, contract: str | None = None, *, policy: Policy = DEFAULT_POLICY,
                   source: str | None = None) -> Report:
    """Parse and validate JSON bytes; invalid JSON is a finding (AEC005), never an exception."""
    screened = _READY.get(contract)
    if screened is None and contract in _NAMES:
        screened = _READY[contract] = _screened(contract)
    if screened is not None and isinstance(data, bytes) and len(data) <= MAX_STRING:
        # the common case, flattened: a named contract and bytes of ordinary size that parse
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # the general path below says why
        else:
            return Report.build(contract, _judge(screened, payload, data), policy, source)
    payload, problem, checked = parse_json(data)
    if problem is not None:
        return Report.build(contract, [problem], policy, source)
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    report = _validate(payload, contract, policy, source, checked=checked, raw=raw)
    if checked and len(data) > MAX_STRING:
        extra = [f for f in _sanity(payload) if f.rule == S.OVERSIZED.id]
        if extra:
            report = Report.build(report.contract, [*report.findings, *extra], policy, source)
    return report


def validate_file(data: bytes, source: str, contract: str | None = None, *, policy: Policy = DEFAULT_POLICY) -> Report:
    """Validate a payload file's bytes: YAML by its name's ending (.yaml, .yml), JSON otherwise."""
    if source.endswith((".yaml", ".yml")):
        try:
            payload: Any = load_yaml(data)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            finding = S.NOT_JSON.finding("", f"not valid YAML{where}", "fix the YAML syntax")
            return Report.build(contract, [finding], policy, source)
        return validate(payload, contract, policy=policy, source=source)
    return validate_bytes(data, contract, policy=policy, source=source)


def detect_contract(payload: Any) -> str | None:
    """Guess the contract from a payload's shape (None when nothing fits)."""
    if isinstance(payload, list):
        return "dataset-response" if payload and all(isinstance(x, str) for x in payload) else None
    if not isinstance(payload, dict):
        return None
    keys = payload.keys()
    if "records" in keys:
        return "export-job-list"
    if "error_code" in keys or "statusCode" in keys or ("title" in keys and "status" in keys):
        return "error"
    if keys and keys <= {"status", "message"} and isinstance(payload.get("status"), bool):
        return "export-job-cancel"
    if {"schemaRef", "fileDescription"} & keys or ("name" in keys and "destination" not in keys):
        return "dataset-request"
    job_keys = {"id", "jobType", "creationTime", "updateTime", "imsOrgId", "metrics", "computeGatewayJobId",
                "requestId", "profileInstanceId"}
    if job_keys & keys or isinstance(payload.get("status"), str):
        return "export-job"
    if {"destination", "schema", "filter", "fields", "mergePolicy", "additionalFields"} & keys:
        return "export-job-request"
    return None
