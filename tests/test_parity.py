"""One way to validate a payload: a value and its JSON bytes get the same verdict and the same findings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aep_export_contracts import CONTRACT_NAMES, validate, validate_bytes
from aep_export_contracts.engine.payload import MAX_DEPTH
from aep_export_contracts.generation.strategies import invalid, valid
from conftest import PROFILE

NO_JSON_FORM = {"AEC005", "AEC006"}


def _key(report: Any) -> list[tuple[str, str, str, str]]:
    return sorted((f.rule, str(f.severity), f.pointer, f.message) for f in report.findings)


def assert_same(value: Any, contract: str | None) -> None:
    """validate(value) and validate_bytes(json.dumps(value)) agree; a value JSON cannot carry is a finding."""
    by_value = validate(value, contract)
    try:
        text = json.dumps(value, allow_nan=False)
        faithful = json.loads(text) == value  # a non-string key comes back as a string: another value
    except (ValueError, TypeError, RecursionError):
        faithful = False
    if not faithful:  # no JSON text carries this value: the value path says so itself
        assert by_value.rules() & NO_JSON_FORM, by_value.findings
        return
    by_bytes = validate_bytes(text.encode(), contract)
    assert (by_value.contract, by_value.valid, _key(by_value)) == (by_bytes.contract, by_bytes.valid, _key(by_bytes))


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


CANCEL = {"status": True, "message": "Export job has been marked for cancelling"}
EDGES = [
    ({"status": True, "message": "\udfff"}, "export-job-cancel"),  # a lone surrogate
    ({"status": True, "message": "ok", "\ud800x": 1}, "export-job-cancel"),  # ... in a key
    ({**CANCEL, "extra": 10**400}, "export-job-cancel"),  # beyond 64 bits: exact on both paths
    ({**CANCEL, "message": 10**400}, "export-job-cancel"),
    ({**CANCEL, "extra": 10**5000}, "export-job-cancel"),  # no JSON text here at all
    ({**CANCEL, "extra": float("nan")}, "export-job-cancel"),
    ({**CANCEL, "extra": float("inf")}, "export-job-cancel"),
    ({1: "non-string key"}, "export-job-cancel"),
    ({**CANCEL, "extra": -(2**63) - 1}, "export-job-cancel"),
    ({**CANCEL, "extra": 2**64}, "export-job-cancel"),
]


@pytest.mark.parametrize(("value", "contract"), EDGES, ids=[str(i) for i in range(len(EDGES))])
def test_edge_values_get_one_verdict(value: Any, contract: str) -> None:
    assert_same(value, contract)


def test_a_lone_surrogate_is_named_on_both_paths() -> None:
    value = {"status": True, "message": "\udfff"}
    for report in (validate(value, "export-job-cancel"),
                   validate_bytes(json.dumps(value).encode(), "export-job-cancel")):
        assert [(f.rule, f.pointer) for f in report.findings] == [("AEC005", "/message")], report.findings
        assert "surrogate" in report.findings[0].message


def test_huge_integers_are_findings_not_exceptions() -> None:
    job = {"id": 1, "creationTime": 10**5000}
    report = validate(job, "export-job")
    assert [(f.rule, f.pointer) for f in report.findings] == [("AEC005", "/creationTime")]


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 2, MAX_DEPTH + 5])
def test_nesting_gets_one_verdict_at_every_depth(depth: int) -> None:
    value = {"status": True, "message": "m", "extra": _nested(depth)}
    text = '{"status": true, "message": "m", "extra": ' + "[" * depth + "]" * depth + "}"
    by_value, by_bytes = validate(value, "export-job-cancel"), validate_bytes(text.encode(), "export-job-cancel")
    assert by_value.valid == by_bytes.valid
    assert ("AEC006" in by_value.rules()) == ("AEC006" in by_bytes.rules())
    # the whole document has depth + 1 levels: orjson's limit is 1,024
    assert ("AEC006" in by_value.rules()) == (depth + 1 > MAX_DEPTH + 1)


def test_the_empty_document_says_so() -> None:
    report = validate_bytes(b"  \n", "export-job")
    assert [(f.rule, f.message) for f in report.findings] == [("AEC005", "the document is empty")]


def _payloads(contract: str) -> st.SearchStrategy[tuple[str, Any]]:
    return st.tuples(st.just(contract), valid(contract) | invalid(contract).map(lambda example: example.payload))


@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=PROFILE != "thorough")
@given(case=st.sampled_from(CONTRACT_NAMES).flatmap(_payloads))
def test_generated_and_mutated_payloads_get_one_verdict(case: tuple[str, Any]) -> None:
    contract, value = case
    assert_same(value, contract)
    assert_same(value, None)


@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=PROFILE != "thorough")
@given(value=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20))
def test_arbitrary_values_get_one_verdict(value: Any) -> None:
    for contract in ("export-job-cancel", "error", None):
        assert_same(value, contract)


@pytest.mark.parametrize("big", [2**63, -(2**63) - 1, 2**64 + 3, 10**30, -(10**40)])
def test_integers_beyond_64_bits_are_read_exactly(big: int) -> None:
    """orjson reads such an integer as a float; a payload with findings is read again, exactly."""
    value = {"id": big, "status": "NEW"}
    by_value, by_bytes = validate(value, "export-job"), validate_bytes(json.dumps(value).encode(), "export-job")
    assert _key(by_value) == _key(by_bytes)
    wrong_type = {"status": True, "message": big}
    report = validate_bytes(json.dumps(wrong_type).encode(), "export-job-cancel")
    assert [f.message for f in report.findings] == [f"expected string, got integer {big}"]


def _deep_objects(depth: int) -> tuple[dict[str, Any], str]:
    value: dict[str, Any] = {}
    cur = value
    for _ in range(depth):
        cur["k"] = {}
        cur = cur["k"]
    return value, '{"k": ' * depth + "{}" + "}" * depth


WRAPS = [lambda v: {'k"ey': [1, v]}, lambda v: [{"a": 1, "b": [0, {"c~/": v}]}], lambda v: v,
         lambda v: {"a": [1, {"b": 2}], "c": v}, lambda v: {"é\\n": {"x": v}}, lambda v: [[[{"q": v}]]]]


@pytest.mark.parametrize("depth", [MAX_DEPTH - 3, MAX_DEPTH, MAX_DEPTH + 80, 5000])
@pytest.mark.parametrize("wrap", range(len(WRAPS)))
def test_too_deep_is_named_at_the_same_pointer_on_both_paths(depth: int, wrap: int) -> None:
    """The bytes path reads only the structure of a document too deep to parse, and names the same spot."""
    value = {"status": True, "message": "m,[{", "x": WRAPS[wrap](_nested(depth))}
    text = json.dumps({"status": True, "message": "m,[{", "x": WRAPS[wrap]("@")}).replace('"@"', "[" * depth + "]" * depth)
    by_value, by_bytes = validate(value, "export-job-cancel"), validate_bytes(text.encode(), "export-job-cancel")
    assert [(f.rule, f.pointer) for f in by_value.findings] == [(f.rule, f.pointer) for f in by_bytes.findings]
    objects, written = _deep_objects(depth)
    by_value = validate({**CANCEL, "x": objects}, "export-job-cancel")
    by_bytes = validate_bytes(('{"status": true, "message": "m", "x": ' + written + "}").encode(), "export-job-cancel")
    assert [(f.rule, f.pointer) for f in by_value.findings] == [(f.rule, f.pointer) for f in by_bytes.findings]


def test_a_too_deep_payload_of_no_named_contract_is_judged_alike() -> None:
    """Unparsed bytes have no shape to detect a contract from: the value path says so too."""
    value = {"id": 1, "status": "NEW", "extra": _nested(MAX_DEPTH + 80)}
    text = '{"id": 1, "status": "NEW", "extra": ' + "[" * (MAX_DEPTH + 80) + "]" * (MAX_DEPTH + 80) + "}"
    by_value, by_bytes = validate(value), validate_bytes(text.encode())
    assert (by_value.contract, _key(by_value)) == (by_bytes.contract, _key(by_bytes))
    assert by_value.contract is None and by_value.rules() == {"AEC006"}


@pytest.mark.parametrize("where", [("creationTime",), ("metrics", "totalTime", "endTimeInMs"),
                                   ("metrics", "totalExportedProfileCounter")])
def test_a_valid_job_with_an_integer_beyond_64_bits_is_named_exactly(where: tuple[str, ...]) -> None:
    """A job every contract keyword accepts, orjson's float for the integer included: the screened validator
    bounds every number, so the job leaves the quiet path and its findings name the integer as written."""
    import payloads as P

    job = P.job(status="CANCELLED")  # (a finding: AEC210, so the bytes have findings to read again)
    node = job
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = 10**25
    by_value, by_bytes = validate(job, "export-job"), validate_bytes(json.dumps(job).encode(), "export-job")
    assert _key(by_value) == _key(by_bytes)
    written = {"creationTime": str(10**25),  # AEC204: updateTime earlier than it
               "endTimeInMs": str(10**25 - job["metrics"]["totalTime"]["startTimeInMs"])}.get(where[-1])  # AEC202
    if written is not None:  # (a counter no rule reads: its findings are the same either way)
        assert any(written in f.message for f in by_bytes.findings), by_bytes.findings


def _with_a_big_integer_at_each_place(value: Any) -> Iterator[Any]:
    """The value with 10**25 put in place of each of its members in turn (and, in an array, beside them)."""
    import copy

    if isinstance(value, dict):
        for key in value:
            for sub in [10**25, *_with_a_big_integer_at_each_place(value[key])]:
                yield {**value, key: sub}
    elif isinstance(value, list):
        yield [*value, 10**25]
        for i, item in enumerate(value):
            for sub in [10**25, *_with_a_big_integer_at_each_place(item)]:
                changed = copy.copy(value)
                changed[i] = sub
                yield changed


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_the_screened_validator_passes_no_integer_read_as_a_float(contract: str) -> None:
    """Where the engine trusts it (no exact reading of a payload it passes), the screened validator passes no
    payload that holds an integer orjson reads as a float, wherever it is put."""
    import orjson

    from aep_export_contracts.engine.compiled import _screened, exact_when_screened
    from aep_export_contracts.generation.strategies import dumps, generate

    if contract in ("export-job-request", "export-job", "export-job-list"):
        assert exact_when_screened(contract)  # (read in bulk: the ones this spares an exact reading)
    if not exact_when_screened(contract):
        pytest.skip(f"{contract}: every payload with findings is read again")
    import payloads as P

    screened = _screened(contract)
    tried = 0
    by_hand = {"export-job": [P.job(metrics={**P.job()["metrics"], "exportedProfileByNamespaceCounter": {"ECID": 5}})]}
    for payload in [*(r["payload"] for r in generate(contract, 12, seed=7)), *by_hand.get(contract, [])]:
        for mutant in _with_a_big_integer_at_each_place(payload):
            parsed = orjson.loads(dumps(mutant).encode())
            assert not screened.is_valid(parsed), dumps(mutant)[:300]
            tried += 1
    assert tried >= 12


def test_the_bound_reaches_every_subschema_that_may_meet_a_number() -> None:
    from aep_export_contracts.engine.compiled import EXACT_BOUND, _bounded

    limit = {"maximum": EXACT_BOUND, "minimum": -EXACT_BOUND}
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}, "s": {"type": "string"}},
              "additionalProperties": {"type": "integer"}, "$defs": {"d": {"type": ["integer", "null"]}},
              "anyOf": [{"type": "object"}, {"items": {"type": "integer", "maximum": 10**30}}],
              "allOf": [{"prefixItems": [{"type": "number"}]}]}
    bounded = _bounded(schema)
    assert bounded["properties"]["n"] == {"type": "integer", "minimum": 0, "maximum": EXACT_BOUND}  # its own kept
    assert bounded["properties"]["s"] == {"type": "string"}
    assert bounded["additionalProperties"] == {"type": "integer", **limit}
    assert bounded["$defs"]["d"] == {"type": ["integer", "null"], **limit}
    assert bounded["anyOf"][0] == {"type": "object"}
    assert bounded["anyOf"][1]["items"] == {"type": "integer", **limit}  # (10**30 is past the bound)
    assert bounded["anyOf"][1]["maximum"] == EXACT_BOUND  # (no type: it may be a number)
    assert bounded["allOf"][0]["prefixItems"] == [{"type": "number", **limit}]
    assert "maximum" not in bounded  # an object
