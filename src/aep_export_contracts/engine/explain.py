"""Explanations: a schema error, from either engine, as the one finding that names its problem.

jsonschema-rs reports first (it is fast); python-jsonschema is the independent second engine that a
differential test holds to the same findings. A cascade with one cause (the branches of an anyOf)
becomes the finding of the closest branch.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

from ..findings import Finding
from ..rules import schema as SCHEMA_RULES
from ..spec import contracts
from ..spec.contracts import escape, pointer
from ..spec.formats import fields_problem, is_field_list, rfc3339_problem
from .compiled import EXPLAINED, EXPLAINED_MAX, _explainer, _fast

__all__ = ["explain", "explain_errors", "explain_reference"]

#: Keys that no source knows but that people write, and what they meant.
ALIASES = {
    "fromTimestamp": "fromIngestTimestamp",
    "toTimestamp": "toIngestTimestamp",
    "dataSetId": "datasetId",
    "segmentID": "segmentId",
    "segmentNS": "segmentNs",
    "segmentPerBatches": "segmentPerBatch",
}

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


def json_type(value: Any) -> str:
    """The JSON type of a value, as JSON Schema names it (a Python type's name for what JSON cannot carry)."""
    if value is None:
        return "null"
    return next((name for cls, name in _JSON_TYPES if isinstance(value, cls)), type(value).__name__)


def _hint(key: str, known: tuple[str, ...]) -> str:
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


def _problem(keyword: str, path: list[Any], inst: Any, bound: Any, contract: str) -> list[Finding]:
    """Findings for one schema problem, whichever engine found it (one builder for both paths)."""
    if keyword == "required":
        return [_missing(tuple(path), bound) if bound.__class__ is str else _missing.__wrapped__(tuple(path), str(bound))]
    if keyword == "additionalProperties":
        at, known = tuple(path), _known_keys(contract, path)
        return [_unknown(at, key, known) if key.__class__ is str and len(key) <= 256
                else _unknown.__wrapped__(at, key, known) for key in bound]
    where = pointer(path)
    if keyword == "type":
        expected_text = " or ".join(bound) if isinstance(bound, list) else str(bound)
        return [SCHEMA_RULES.WRONG_TYPE.finding(where, f"expected {expected_text}, got {json_type(inst)}"
                                                + ("" if isinstance(inst, dict | list) else f" {_short(inst)}"),
                                                f"send a JSON {expected_text}")]
    if keyword in ("enum", "const"):
        hint = "use one of: " + ", ".join(str(a) for a in bound)
        if isinstance(inst, str):
            for a in bound:
                if isinstance(a, str) and a.lower() == inst.lower():
                    hint = f"did you mean {a!r}? values are case-sensitive"
        return [SCHEMA_RULES.NOT_ALLOWED.finding(where, f"{_short(inst)} is not an allowed value", hint)]
    if keyword == "format":
        problem = rfc3339_problem(inst) if isinstance(inst, str) else None
        return [SCHEMA_RULES.TIMESTAMP.finding(where, f"{_short(inst)} {problem or 'is not an RFC 3339 date-time'}",
                                               "write e.g. 2019-09-01T00:00:00Z or 2018-10-25T13:22:04-07:00")]
    if keyword == "pattern":
        return _pattern_findings(path, inst)
    if keyword == "uniqueItems" and isinstance(inst, list):
        out, seen = [], []
        for i, item in enumerate(inst):
            if item in seen:
                out.append(SCHEMA_RULES.UNIQUE_STATUS.finding(f"{where}/{i}", f"{_short(item)} appears more than once",
                                                              "list each status once"))
            seen.append(item)
        return out
    return [SCHEMA_RULES.CONSTRAINT.finding(where, _constraint_message(keyword, bound, inst), "")]


@lru_cache(maxsize=4096)  # the same field is missing from payload after payload (one client's bug): its finding is kept
def _missing(path: tuple[Any, ...], name: str) -> Finding:
    return SCHEMA_RULES.REQUIRED.finding(f"{pointer(path)}/{escape(name)}", f"required field '{name}' is missing",
                                         f"add '{name}'")


@lru_cache(maxsize=4096)  # and the same unknown key comes again, where the same keys are known
def _unknown(path: tuple[Any, ...], key: Any, known: tuple[str, ...]) -> Finding:
    return SCHEMA_RULES.UNKNOWN_REQUEST_KEY.finding(f"{pointer(path)}/{escape(str(key))}",
                                                    f"unknown key {_short(key)} in a request", _hint(str(key), known))


def _findings_for(err: ValidationError, contract: str) -> Iterator[Finding]:
    """python-jsonschema's error, as the problem it names."""
    path = list(err.absolute_path)
    kind = str(err.validator)
    inst: Any = err.instance
    bound: Any = err.validator_value
    if kind in ("anyOf", "oneOf") and err.context:
        if contract == "error" and not path:
            yield SCHEMA_RULES.ERROR_SHAPE.finding(pointer(path), "the error body matches none of the platform's error shapes",
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


def _pattern_findings(path: list[Any], inst: Any) -> list[Finding]:
    where = pointer(path)
    if path and path[-1] == "fields" and isinstance(inst, str):
        name = ".".join(str(p) for p in path)
        return [SCHEMA_RULES.FIELDS_SYNTAX.finding(where, f"'{name}' {fields_problem(inst)}",
                                                   "write comma-separated dot paths, e.g. 'identities.id,personalEmail.address'")]
    return [SCHEMA_RULES.CONSTRAINT.finding(where, f"{_short(inst)} does not have the required form", "")]


#: what a value breaks, by the keyword of the constraint ({} is the keyword's bound)
_CONSTRAINTS = {
    "minLength": "must not be shorter than {} character(s)",
    "maxLength": "must not be longer than {} characters",
    "minItems": "must have at least {} item(s)",
    "maxItems": "must have at most {} items",
    "minimum": "must be at least {}",
    "maximum": "must be at most {}",
}


def _constraint_message(kind: Any, bound: Any, inst: Any) -> str:
    text = _CONSTRAINTS.get(str(kind))
    return f"{_short(inst)} " + (text.format(bound) if text is not None
                                 else f"breaks the {kind!r} constraint ({_short(bound)})")


def _known_keys(contract: str, path: list[Any]) -> tuple[str, ...]:
    node = contracts.key_tree(contract)
    for step in path:
        if isinstance(step, int):
            if node.items is None:
                return ()
            node = node.items
        else:
            sub = node.keys.get(step)
            if sub is None:
                return ()
            node = sub
    return tuple(node.keys)


#: jsonschema-rs error kinds, by the JSON Schema keyword they report, and where the kind keeps its bound
RS_KINDS = {"Required": ("required", "property"), "AdditionalProperties": ("additionalProperties", "unexpected"),
            "Type": ("type", "types"), "Enum": ("enum", "options"), "Format": ("format", "format"),
            "Pattern": ("pattern", "pattern"), "UniqueItems": ("uniqueItems", None)}


def _rs_findings(err: Any, contract: str) -> list[Finding]:
    """jsonschema-rs's error, as the problem it names (an anyOf: the branch with the fewest errors)."""
    path = err.instance_path  # (a list of its own)
    kind = err.kind
    name = type(kind).__name__
    inst: Any = err.instance
    if name in ("AnyOf", "OneOfNotValid"):
        if contract == "error" and not path:
            return [SCHEMA_RULES.ERROR_SHAPE.finding(pointer(path), "the error body matches none of the platform's error "
                                                     "shapes", ERROR_SHAPES_HINT)]
        branches = [b for b in (getattr(kind, "context", None) or []) if b]
        if branches:
            return [f for sub in min(branches, key=len) for f in _rs_findings(sub, contract)]
    if name in ("BacktrackLimitExceeded", "RegexEngineFailure"):
        # the Rust engine gave up on a huge value: Python's engine decides the same pattern
        if path and path[-1] == "fields" and isinstance(inst, str) and is_field_list(inst):
            return []
        return _pattern_findings(path, inst)
    if name == "Constant":
        return _problem("const", path, inst, [kind.expected_value], contract)
    known = RS_KINDS.get(name)
    keyword, attribute = known if known is not None else (str(getattr(kind, "name", name)), "limit")
    bound: Any = getattr(kind, attribute, None) if attribute else None
    if name in ("Type", "Enum", "AdditionalProperties"):
        bound = [str(b) for b in bound or ()] if name == "Type" else list(bound or ())
    return _problem(keyword, path, inst, bound, contract)


def explain(payload: Any, contract: str, *, memo: bool = True) -> list[Finding]:
    """The schema findings for a payload, one per problem (jsonschema-rs errors, best branch of an anyOf)."""
    try:
        errors = list(_fast(contract).iter_errors(payload))
    except (ValueError, TypeError, OverflowError, RecursionError):
        return explain_reference(payload, contract)
    return explain_errors(errors, contract, memo=memo)


def explain_errors(errors: Iterable[Any], contract: str, *, memo: bool = True) -> list[Finding]:
    """The schema findings for the errors ``_fast(contract)`` found in a payload (what ``explain`` asks it for).

    With ``memo``, an error on a short string, an integer, a boolean or null is explained once: its findings are
    kept by where it is in the schema and in the payload and by the value (``compiled.EXPLAINED``).
    """
    out: list[Finding] = []
    for err in errors:
        inst = err.instance
        cls = inst.__class__
        if memo and ((cls is str and len(inst) <= 256) or cls is int or cls is bool or inst is None):
            key = (contract, tuple(err.schema_path), tuple(err.instance_path), cls, inst)
            found = EXPLAINED.get(key)
            if found is None:
                if len(EXPLAINED) >= EXPLAINED_MAX:
                    EXPLAINED.clear()
                found = EXPLAINED[key] = tuple(_rs_findings(err, contract))
            out.extend(found)
        else:
            out.extend(_rs_findings(err, contract))
    return out


def explain_reference(payload: Any, contract: str) -> list[Finding]:
    """The same findings from python-jsonschema (best match): the independent second engine."""
    try:
        errors = list(_explainer(contract).iter_errors(payload))
    except RecursionError:
        return [SCHEMA_RULES.TOO_DEEP.finding("", "the payload nests too deeply to validate", "")]
    errors.sort(key=lambda e: (list(map(str, e.absolute_path)), str(e.validator)))
    out: list[Finding] = []
    for err in errors:
        out.extend(_findings_for(err, contract))
    return out

