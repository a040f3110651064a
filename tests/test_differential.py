"""The fast path (jsonschema-rs) and the reference engine (python-jsonschema) agree on every verdict.

Both engines read the same contracts. The pitfalls measured on this project's machines (a valid UTC
leap second rejected, a trailing newline accepted by a '$' pattern) are decided here on purpose: a leap
second at 23:59:60 UTC is valid, a trailing newline is not, and the two engines must agree.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs
import pytest

from aep_export_contracts import CONTRACT_NAMES
from aep_export_contracts.engine.compiled import END_OF_INPUT, _explainer, _fast, for_rust
from aep_export_contracts.engine.explain import explain, explain_reference
from aep_export_contracts.generation.strategies import generate
from conftest import BULK_EXAMPLES

TIMESTAMPS = [
    "2016-12-31T23:59:60Z", "2016-12-31T18:59:60-05:00", "2016-12-31T23:58:60Z", "2019-09-01T00:00:00Z",
    "2019-09-01t00:00:00z", "2019-09-01 00:00:00Z", "2019-09-01T00:00:00", "2019-09-01T00:00:00+24:00",
    "2019-09-01T00:00:00.123456789+05:30", "2019-02-29T00:00:00Z", "2020-02-29T00:00:00Z", "2019-09-01T24:00:00Z",
    "2019-09-01T00:00:00Z\n", "2019-9-1T00:00:00Z", "2019-09-01T00:00:00+0530", "",
    "\uff12\uff10\uff11\uff19-09-01T00:00:00Z",  # fullwidth digits: a bare regex \d would take them
    "2019-09-01T00:00:00+00:60", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00",
]
FIELDS = ["identities.id", "identities.id\n", "identities.id,\n", " a , b ", "a,,b", "a.b.c,d", "a\nb", "é.x", "a-b:c"]


def _requests() -> list[dict[str, Any]]:
    base = next(generate("export-job-request", 1, seed=1))["payload"]
    out = []
    for ts in TIMESTAMPS:
        p = copy.deepcopy(base)
        p.setdefault("filter", {})["fromIngestTimestamp"] = ts
        out.append(p)
    for fields in FIELDS:
        p = copy.deepcopy(base)
        p["fields"] = fields
        out.append(p)
    return out


def _corpus(contract: str) -> list[Any]:
    corpus = [r["payload"] for r in generate(contract, BULK_EXAMPLES // 3, seed=21)]
    corpus += [r["payload"] for r in generate(contract, BULK_EXAMPLES // 3, seed=22, invalid=True)
               if r["violation"]["rule"] not in ("AEC005", "AEC006")]
    if contract == "export-job-request":
        corpus += _requests()
    return corpus


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_engines_agree_on_every_verdict(contract: str) -> None:
    fast, reference = _fast(contract), _explainer(contract)
    disagreements = [p for p in _corpus(contract) if fast.is_valid(p) != reference.is_valid(p)]
    assert disagreements == []


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_explanations_agree_where_there_is_no_choice_of_branch(contract: str) -> None:
    for payload in _corpus(contract):
        fast = {(f.rule, f.pointer) for f in explain(payload, contract)}
        reference = {(f.rule, f.pointer) for f in explain_reference(payload, contract)}
        if contract != "error":  # the error contract is one anyOf: both engines name it AEC008
            assert fast == reference, payload
        else:
            assert bool(fast) == bool(reference)


def test_the_decided_edge_cases() -> None:
    fast = _fast("export-job-request")
    verdicts = {p.get("filter", {}).get("fromIngestTimestamp", p.get("fields")): fast.is_valid(p) for p in _requests()}
    assert verdicts["2016-12-31T23:59:60Z"] is True
    assert verdicts["2016-12-31T18:59:60-05:00"] is True
    assert verdicts["2016-12-31T23:58:60Z"] is False
    assert verdicts["2019-09-01T00:00:00"] is False  # no offset
    assert verdicts["identities.id\n"] is False
    assert verdicts[" a , b "] is True


def test_the_rust_schemas_end_patterns_with_dollar_and_keep_their_language() -> None:
    lookahead = "^[a-z]+(?:,[a-z]+)*" + END_OF_INPUT
    schema = {"properties": {"pattern": {"pattern": lookahead}, "x": {"const": {"pattern": lookahead}}},
              "pattern": "a\\" + END_OF_INPUT}  # an escaped "(" begins no group: left alone
    rewritten = for_rust(schema)
    assert rewritten["properties"]["pattern"]["pattern"] == "^[a-z]+(?:,[a-z]+)*$"
    assert rewritten["properties"]["x"] == {"const": {"pattern": lookahead}}  # data, not a schema
    assert rewritten["pattern"] == schema["pattern"]
    original = jsonschema_rs.validator_for({"pattern": lookahead})
    dollar = jsonschema_rs.validator_for({"pattern": "^[a-z]+(?:,[a-z]+)*$"})
    for text in ["ab,cd", "ab,cd\n", "ab\n,cd", "\n", "", "ab,", "ab,cd\r\n", "ab,cd\u2028"]:
        assert original.is_valid(text) == dollar.is_valid(text), text
    assert not dollar.is_valid("ab,cd\n")
