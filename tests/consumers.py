"""Reading the project's reports with the tools teams feed them to, not with the project's own code."""

from __future__ import annotations

from typing import Any

from junitparser import Failure, JUnitXml, Skipped


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
    no relative URI that starts with a slash) with a start line, a fingerprint; help on every rule (GH2012)."""
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
