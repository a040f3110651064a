"""The fault matrix: every fault of the reference server is run, and each is caught by its named rules.

The detection table in docs/commands/serve.md is this run's output, kept current here as the rule catalogue is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aep_export_contracts.check.runner import FaultRow, fault_matrix
from aep_export_contracts.reporting.catalogue import detection_markdown, replace_block
from aep_export_contracts.server import FAULTS
from consumers import junit_agrees

PAGE = Path(__file__).parents[1] / "docs" / "commands" / "serve.md"
Row = FaultRow


@pytest.fixture(scope="module")
def matrix() -> list[Row]:
    # the documented command: strict, two examples an operation, seed 0; jobs run on the virtual clock
    return fault_matrix(sorted(FAULTS), examples=2)


def test_every_fault_is_run_and_caught_by_its_named_rules(matrix: list[Row]) -> None:
    assert [row.fault for row in matrix] == sorted(FAULTS)
    missed = {row.fault: (row.detected, FAULTS[row.fault].detected_by, row.rules) for row in matrix
              if not row.detected or not set(FAULTS[row.fault].detected_by) <= set(row.rules)}
    assert missed == {}


def test_each_fault_reads_as_a_handful_of_problems_with_counts_that_agree(matrix: list[Row]) -> None:
    """One cause, one line: a fault is a few grouped problems, the same in text, JSON and JUnit."""
    import json
    import re

    from aep_export_contracts.reporting.check_text import render_plain
    from aep_export_contracts.reporting.junit import to_junit

    for row in matrix:
        report = row.report
        data = json.loads(report.to_json())
        groups, violations = data["groups"], data["violations"]
        assert 1 <= len(groups) <= 10, (row.fault, [g["rule"] + " " + g["pointer"] for g in groups])
        assert sum(g["count"] + g["consequences"] for g in groups) == len(violations), row.fault
        text = render_plain(report, width=400)
        verdict = re.search(r"checks: (\d+) problem\(s\), (\d+) violation\(s\)", text)
        assert verdict and (int(verdict[1]), int(verdict[2])) == (len(groups), len(violations)), (row.fault, text[-300:])
        problem_lines = [line for line in text.splitlines() if re.match(r"AEC\d{3} ×\d+ ", line)]
        assert len(problem_lines) == len(groups), row.fault
        assert junit_agrees(to_junit(report), data)


def test_every_workflow_rule_fires_in_the_matrix(matrix: list[Row]) -> None:
    """Each rule of the check's own workflows is shown firing by some fault (none is dead code)."""
    from aep_export_contracts.rules import all_rules

    workflow = {r.id for r in all_rules() if r.scope == "workflow"}
    fired = {rule for row in matrix for rule in row.rules}
    assert workflow - fired == set()
    for row in matrix:  # and each violation the matrix reports says what and where
        assert all(v["message"] and v["check"] for v in row.report.to_dict()["violations"]), row.fault


def test_the_clean_server_fires_no_rule() -> None:
    """The matrix would mean nothing if the server fired rules without a fault."""
    from aep_export_contracts.check.runner import CheckOptions, run_check
    from aep_export_contracts.options import make

    report = run_check(make(CheckOptions, {"examples": 2, "strict": True}))
    assert report.ok and report.by_rule() == {}


def test_the_documented_detection_table_is_this_run(matrix: list[Row]) -> None:
    text = PAGE.read_text(encoding="utf-8")
    from aep_export_contracts.proxy.sample_client import proxy_matrix

    table = detection_markdown(matrix, {name: f.breaks for name, f in FAULTS.items()}, proxy_matrix(sorted(FAULTS)))
    assert replace_block(text, "fault-detection", table) == text, (
        "run: python tools/fault_table.py (it rewrites the table in docs/commands/serve.md)")
