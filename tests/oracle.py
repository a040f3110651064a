"""An oracle for labelled invalid examples that does not go through the validator under test.

Schema rules are confirmed by python-jsonschema (the reference engine, with its own format checker)
on the contract's schema; the sanity rules (not JSON, too deep, oversized) by reading the value at
the pointer; detection by asking whether any contract accepts the payload; semantic rules by
calling the rule's own function on the payload (or on each record of a list), bypassing the
engine's gates, screens and compiled validators.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import jsonschema

from aep_export_contracts.rules import get_rule
from aep_export_contracts.spec import contracts
from aep_export_contracts.spec.contracts import CONTRACT_NAMES, escape

MIB = 1 << 20
DEPTH_LIMIT = 1023  # the depth past which the contract refuses to validate (orjson's own limit)


def _pointer(path: Any) -> str:
    return "".join("/" + escape(str(p)) for p in path)


def _at(value: Any, pointer: str) -> Any:
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


def _validator(contract: str) -> jsonschema.protocols.Validator:
    schema = contracts.schema(contract)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=contracts.registry(), format_checker=cls.FORMAT_CHECKER)


def _flat(errors: Any) -> Iterator[jsonschema.ValidationError]:
    for e in errors:
        yield e
        yield from _flat(e.context or ())


def _places(e: jsonschema.ValidationError) -> Iterator[str]:
    """The pointers one schema error speaks of: where it is, and the keys it names there."""
    where = _pointer(e.absolute_path)
    yield where
    if e.validator == "required" and isinstance(e.instance, dict):
        yield from (f"{where}/{escape(k)}" for k in e.validator_value if k not in e.instance)
    if e.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(e.instance, dict):
        yield from (f"{where}/{escape(k)}" for k in e.instance)
    if e.validator == "uniqueItems" and isinstance(e.instance, list):
        yield from (f"{where}/{i}" for i in range(len(e.instance)))


def schema_places(contract: str, payload: Any) -> set[str]:
    return {p for e in _flat(_validator(contract).iter_errors(payload)) for p in _places(e)}


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return deepest


def _not_json(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    try:
        json.dumps(value, allow_nan=False)
    except (ValueError, TypeError):
        return True
    return False


def _semantic(contract: str, payload: Any, rule_id: str) -> set[str]:
    rule = get_rule(rule_id)
    assert rule.check is not None, rule_id
    if contract in rule.contracts:
        return {f.pointer for f in rule.run(payload)}
    records = payload.get("records") if isinstance(payload, dict) else None
    assert contract == "export-job-list" and isinstance(records, list), (contract, rule_id)
    return {f.pointer for i, record in enumerate(records) for f in rule.run(record, f"/records/{i}")}


def confirms(contract: str, payload: Any, rule_id: str, pointer: str, *, detect: bool = False) -> bool:
    """Whether the independent path agrees that ``rule_id`` is broken at ``pointer``."""
    if rule_id == "AEC005":
        return _not_json(_at(payload, pointer))
    if rule_id == "AEC006":
        return _depth(payload) > DEPTH_LIMIT
    if rule_id == "AEC007":
        value = _at(payload, pointer)
        return isinstance(value, str) and len(value) > MIB
    if rule_id == "AEC009":
        return detect and not any(_validator(c).is_valid(payload) for c in CONTRACT_NAMES)
    if get_rule(rule_id).scope == "schema":
        return pointer in schema_places(contract, payload)
    return pointer in _semantic(contract, payload, rule_id)
