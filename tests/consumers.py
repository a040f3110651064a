"""Reading the project's reports with the tools teams feed them to, not with the project's own code."""

from __future__ import annotations

from typing import Any

from junitparser import Failure, JUnitXml, Skipped


def junit_agrees(xml: str, data: dict[str, Any]) -> bool:
    """The JUnit file, as junitparser reads it, counts what the JSON report counts: a case per check, a
    failing case per failing check (its message naming the rules), and every violated rule among them."""
    suites = JUnitXml.fromstring(xml)
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
