"""Generated payloads: valid ones are valid, invalid ones trigger exactly their labelled rule."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings

from aep_export_contracts import CONTRACT_NAMES, validate, validate_bytes
from aep_export_contracts.engine.exchange import validate_exchange
from aep_export_contracts.generation.strategies import (
    Labelled,
    dumps,
    exchanges,
    generate,
    invalid,
    invalid_exchanges,
    to_exchange,
    valid,
)
from aep_export_contracts.rules import all_rules
from conftest import BULK_EXAMPLES, GEN_EXAMPLES


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_valid_examples_have_no_error(contract: str) -> None:
    @settings(max_examples=GEN_EXAMPLES)
    @given(valid(contract))
    def check(payload: object) -> None:
        report = validate_bytes(dumps(payload).encode(), contract)
        assert report.errors == []

    check()


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_invalid_examples_trigger_their_label(contract: str) -> None:
    @settings(max_examples=GEN_EXAMPLES)
    @given(invalid(contract))
    def check(example: Labelled) -> None:
        data = dumps(example.payload).encode()
        detect = example.rule == "AEC009"
        report = validate_bytes(data, None if detect else contract)
        assert (example.rule, example.pointer) in {(f.rule, f.pointer) for f in report.findings}

    check()


@settings(max_examples=GEN_EXAMPLES)
@given(exchanges())
def test_valid_exchanges_have_no_error(data: dict) -> None:
    assert validate_exchange(to_exchange(json.loads(dumps(data)))).errors == []


@settings(max_examples=GEN_EXAMPLES)
@given(invalid_exchanges())
def test_invalid_exchanges_trigger_their_label(example: Labelled) -> None:
    report = validate_exchange(to_exchange(json.loads(dumps(example.payload))))
    assert (example.rule, example.pointer) in {(f.rule, f.pointer) for f in report.findings}


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_bulk_valid_and_invalid(contract: str) -> None:
    for record in generate(contract, BULK_EXAMPLES, seed=7):
        assert validate(record["payload"], contract).errors == [], record
    for record in generate(contract, BULK_EXAMPLES // 3, seed=7, invalid=True):
        violation = record["violation"]
        detect = violation["rule"] == "AEC009"
        report = validate_bytes(dumps(record["payload"]).encode(), None if detect else contract)
        assert (violation["rule"], violation["pointer"]) in {(f.rule, f.pointer) for f in report.findings}


def test_every_rule_is_reachable_by_a_mutation() -> None:
    reached: set[str] = set()
    for contract in [*CONTRACT_NAMES, "exchange"]:
        reached |= {r["violation"]["rule"] for r in generate(contract, 1500, seed=11, invalid=True)}
    missing = sorted({r.id for r in all_rules() if r.scope not in ("workflow", "cassette")} - reached)
    assert missing == [], f"rules no mutation reaches: {missing}"


def test_valid_generation_reaches_every_shape() -> None:
    jobs = [r["payload"] for r in generate("export-job", 2000, seed=3)]
    assert {j["status"] for j in jobs} == {"NEW", "PROCESSING", "SUCCEEDED", "FAILED", "CANCELLING", "CANCELLED"}
    assert any("batches" in j["destination"] for j in jobs) and any("batchId" in j["destination"] for j in jobs)
    requests = [r["payload"] for r in generate("export-job-request", 2000, seed=3)]
    keys = {k for r in requests for k in r} | {f"filter.{k}" for r in requests for k in r.get("filter", {})}
    assert {"fields", "mergePolicy", "filter", "additionalFields", "evaluationInfo", "filter.segments",
            "filter.segmentQualificationTime", "filter.fromIngestTimestamp", "filter.emptyProfiles"} <= keys
    stamps = [r["filter"]["fromIngestTimestamp"] for r in requests if "fromIngestTimestamp" in r.get("filter", {})]
    assert {s[-1] for s in stamps} >= {"Z", "0", "z"} and any("-07:00" in s for s in stamps)
    listings = [r["payload"] for r in generate("export-job-list", 500, seed=3)]
    assert any(len(x["records"]) >= 3 for x in listings) and any(not x["records"] for x in listings)


def test_generate_cli_is_deterministic() -> None:
    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "aep_export_contracts.cli", "generate", *args],
                              capture_output=True, text=True, check=True)
        return done.stdout

    first = run("export-job", "-n", "20", "--seed", "5", "--invalid")
    assert first == run("export-job", "-n", "20", "--seed", "5", "--invalid")
    assert first != run("export-job", "-n", "20", "--seed", "6", "--invalid")
    lines = first.splitlines()
    assert len(lines) == 20 and all('"violation": {"rule": "AEC' in line for line in lines)
    # every line is strict JSON; a payload with no such form (too deep for a parser, a NaN) comes as text
    parsed = [json.loads(line) for line in lines]
    plain = [x for x in parsed if set(x) == {"payload", "violation"}]
    carried = [x for x in parsed if set(x) == {"payload", "violation", "payload_text", "strict_json"}]
    assert plain and len(plain) + len(carried) == len(parsed)
    assert all(x["payload"] is None and x["strict_json"] is False for x in carried)
    valid_lines = run("dataset-request", "-n", "5", "--seed", "1").splitlines()
    assert len(valid_lines) == 5 and all(set(json.loads(x)) == {"payload"} for x in valid_lines)


def test_pytest_plugin_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from hypothesis import given, settings

        def test_uses_strategies(aec_strategies, aec_validate):
            @settings(max_examples=20)
            @given(aec_strategies.invalid("export-job-request"))
            def inner(example):
                report = aec_validate(example.payload, "export-job-request")
                assert example.rule in report.rules() or example.rule in ("AEC005", "AEC009")
            inner()
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_dumps_handles_any_depth_like_json_dumps() -> None:
    value = {"a": [1, {"b": "é", "c": None}], "d": 1.5, "e": True}
    assert dumps(value) == json.dumps(value, ensure_ascii=False)
    deep: list = [value]
    for _ in range(1500):
        deep = [deep]
    text = dumps(deep)
    assert text == "[" * 1501 + json.dumps(value, ensure_ascii=False) + "]" * 1501


@pytest.mark.parametrize("depth", [1, 200, 400])  # 400 objects in lists: past orjson's limit, within json's
def test_deep_values_are_written_as_json_dumps_writes_them(depth: int) -> None:
    from aep_export_contracts.generation.strategies import _json_bytes

    value: object = {"leaf": [None, 1.5, "é"], 7: True, None: 0, 2.5: "x", False: [], float("inf"): {}}
    for _ in range(depth):
        value = {"k": [value, 1], 3: None}
    expected = json.dumps(value, ensure_ascii=False)
    assert dumps(value) == expected
    assert _json_bytes(value) == expected.encode()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_examples_shrink_to_the_smallest_payload(seed: int) -> None:
    # every optional field is its own choice: shrinking switches off each one the condition does not need
    import random

    from hypothesis import find
    from hypothesis import settings as hsettings

    quiet = hsettings(database=None, max_examples=500)
    smallest = find(valid("export-job-request"), lambda _x: True, settings=quiet, random=random.Random(seed))
    assert set(smallest) == {"destination", "schema"}
    assert set(smallest["destination"]) == {"datasetId"}
    with_window = find(valid("export-job-request"), lambda x: "segmentQualificationTime" in x.get("filter", {}),
                       settings=quiet, random=random.Random(seed))
    assert set(with_window) == {"destination", "schema", "filter"}
    assert set(with_window["filter"]) == {"segmentQualificationTime"}


@pytest.mark.parametrize("contract", ["export-job-request", "export-job", "export-job-list"])
def test_the_public_strategy_path_builds_valid_payloads_too(contract: str) -> None:
    # where hypothesis offers no choice-level draws, the builders draw cached strategies instead
    from hypothesis import strategies as st

    from aep_export_contracts.generation.builders import BUILDERS, HypothesisSource

    def build(draw: st.DrawFn) -> object:
        source = HypothesisSource(lambda strategy: draw(strategy))  # a plain function: no engine behind it
        assert source._draw_integer is None
        return BUILDERS[contract](source)

    @settings(max_examples=30, database=None)
    @given(st.composite(build)())
    def check(payload: object) -> None:
        assert validate(payload, contract).errors == []

    check()


@pytest.mark.parametrize("value", [
    {"a": "x" * 70000}, {"a": "x" * 70000, "b": None}, {"a": "l" * 70000}, {"a": "l" * 70000, "b": None},
    {"a": "x" * 70000, "n": float("nan")}, {"a": "nul" + "l" * 70000}, {"a": ["x" * 70000, None]},
])
def test_the_bytes_a_verification_reads_are_the_json_of_the_value(value: dict) -> None:
    # orjson writes NaN as null: any null in its output sends the value through json.dumps
    from aep_export_contracts.generation.strategies import _json_bytes

    assert json.loads(_json_bytes(value), parse_constant=lambda c: c) == json.loads(
        json.dumps(value), parse_constant=lambda c: c)
    assert (b"NaN" in _json_bytes(value)) == any(isinstance(v, float) for v in value.values())


def test_generate_invalid_writes_strict_json_and_only_what_the_default_policy_rejects() -> None:
    import orjson

    from aep_export_contracts.cli import main as cli

    for contract in ("export-job", "export-job-request"):
        lines = _cli_lines(cli, ["generate", contract, "--invalid", "-n", "200", "--seed", "3"])
        assert len(lines) == 200
        carried = 0
        for line in lines:
            record = orjson.loads(line)  # a strict parser: NaN or a lone surrogate escape would be refused
            violation = record["violation"]
            assert violation["severity"] == "error"
            if record.get("strict_json") is False:
                carried += 1
                assert record["payload"] is None
                text = record["payload_text"].encode()
            else:
                assert "payload_text" not in record
                text = orjson.dumps(record["payload"])
            detect = violation["rule"] == "AEC009"
            report = validate_bytes(text, None if detect else contract)
            assert not report.valid and (violation["rule"], violation["pointer"]) in \
                {(f.rule, f.pointer) for f in report.findings}, violation
        assert carried, "no payload without a strict JSON form was drawn: the carrying is untested"
    warnings = [orjson.loads(line)["violation"]["severity"] for line in
                _cli_lines(cli, ["generate", "export-job", "--invalid", "--strict", "-n", "300", "--seed", "3"])]
    assert "warning" in warnings and "error" in warnings


def _cli_lines(cli: object, argv: list[str]) -> list[str]:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert cli(argv) == 0  # type: ignore[operator]
    return buffer.getvalue().splitlines()
