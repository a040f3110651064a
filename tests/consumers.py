"""Reading the project's reports with the tools teams feed them to, not with the project's own code."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator, Draft202012Validator
from junitparser import Failure, JUnitXml, Skipped
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT6

SCHEMAS = Path(__file__).parent / "fixtures" / "consumers"


def junit_agrees(xml: str, data: dict[str, Any]) -> bool:
    """The JUnit file, as junitparser reads it, counts what the JSON report counts: a case per check, a
    failing case per failing check (its message naming the rules), and every violated rule among them."""
    suites = JUnitXml.fromstring(xml.encode())  # bytes: lxml, where installed, refuses text with a declaration
    cases = [case for suite in suites for case in suite]
    failed = [case for case in cases if any(isinstance(r, Failure) for r in case.result)]
    skipped = [case for case in cases if any(isinstance(r, Skipped) for r in case.result)]
    named = " ".join(r.message or "" for case in failed for r in case.result)
    assert len(cases) == data["checks"], (len(cases), data["checks"])
    assert len(failed) == data["failed_checks"], (len(failed), data["failed_checks"])
    assert int(suites.tests) == len(cases) and int(suites.failures) == len(failed)
    assert int(suites.skipped) == len(skipped)
    assert {v["rule"] for v in data["violations"]} <= {rule for rule in data["by_rule"]}
    assert all(g["rule"] in named for g in data["groups"]), (named[:300], [g["rule"] for g in data["groups"]])
    for suite in suites:
        assert suite.timestamp and suite.hostname
    return True


def sarif_meets_code_scanning(doc: dict[str, Any]) -> bool:
    """What GitHub code scanning and the SARIF Multitool's GitHub rules ask of a SARIF file: every result's
    rule among the driver's rules, a physical location whose URI is relative to a declared base (SARIF1004:
    no relative URI that starts with a slash) with a start line, a fingerprint; help on every rule (GH2012).
    Code scanning refuses a file that the SARIF schema does not accept, so that comes first."""
    assert sarif_schema_valid(doc)
    [run] = doc["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert all(r["help"]["text"] and r["help"]["markdown"] and r["helpUri"].startswith("https://") for r in rules)
    ids = [r["id"] for r in rules]
    bases = run.get("originalUriBaseIds", {})
    assert all(base["uri"].endswith("/") for base in bases.values())
    for result in run["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        artifact = physical["artifactLocation"]
        if "uriBaseId" in artifact:
            assert artifact["uriBaseId"] in bases and not artifact["uri"].startswith("/"), artifact
        else:
            assert artifact["uri"].startswith("file:///"), artifact  # absolute, outside the working folder
        assert physical["region"]["startLine"] >= 1
        assert result["partialFingerprints"]
    return True


def sarif_tools_reads(path: str) -> bool:
    """sarif-tools (a SARIF reader from the package index) reads every result, each at a file and a line."""
    from sarif import loader

    sarif_file = loader.load_sarif_file(path)
    records = sarif_file.get_records()
    assert len(records) == len(sarif_file.get_results()) > 0
    for record in records:
        assert isinstance(record["Line"], int) and record["Line"] >= 1, record  # a line it found, not a default
        assert record["Location"].endswith((".json", ".yaml", ".yml", ".har")), record  # a file, not a name
    return True


@cache
def _sarif_validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMAS / "sarif-2.1.0.json").read_text()))


@cache
def _har_validator() -> Draft6Validator:
    """har-schema's files name each other by relative ids (`log.json#`): a registry holds them all under those."""
    resources = [(path.name, Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT6))
                 for path in sorted((SCHEMAS / "har-schema").glob("*.json"))]
    registry: Registry[Any] = Registry().with_resources(resources)
    return Draft6Validator(registry.contents("har.json"), registry=registry)


def _errors(validator: Draft6Validator | Draft202012Validator, doc: dict[str, Any]) -> list[str]:
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"[:300] for e in validator.iter_errors(doc)]


def sarif_schema_valid(doc: dict[str, Any]) -> bool:
    """Valid against the SARIF 2.1.0 schema, as code scanning's upload checks it."""
    errors = _errors(_sarif_validator(), doc)
    assert not errors, errors[:5]
    return True


def har_schema_valid(doc: dict[str, Any]) -> bool:
    """Valid against the HAR 1.2 schemas that har-validator uses."""
    errors = _errors(_har_validator(), doc)
    assert not errors, errors[:5]
    return True
