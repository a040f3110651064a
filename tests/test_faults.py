"""The fault matrix: every fault of the reference server is run, and each is caught by its named rules.

The README's detection table is this run's output, kept current here as the rule catalogue is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aep_export_contracts.check.check import fault_matrix
from aep_export_contracts.reporting.catalogue import detection_markdown, replace_block
from aep_export_contracts.server import FAULTS

README = Path(__file__).parents[1] / "README.md"
Row = tuple[str, bool, list[str]]


@pytest.fixture(scope="module")
def matrix() -> list[Row]:
    # the README's command: strict, two examples an operation, seed 0; jobs run on the virtual clock
    return fault_matrix(sorted(FAULTS), examples=2, virtual_time=True)


def test_every_fault_is_run_and_caught_by_its_named_rules(matrix: list[Row]) -> None:
    assert [fault for fault, _, _ in matrix] == sorted(FAULTS)
    missed = {fault: (detected, FAULTS[fault].detected_by, rules) for fault, detected, rules in matrix
              if not detected or not set(FAULTS[fault].detected_by) <= set(rules)}
    assert missed == {}


def test_the_clean_server_fires_no_rule() -> None:
    """The matrix would mean nothing if the server fired rules without a fault."""
    from aep_export_contracts.check.check import CheckOptions, run_check
    from aep_export_contracts.options import make

    report = run_check(make(CheckOptions, {"examples": 2, "virtual_time": True, "strict": True}))
    assert report.ok and report.by_rule() == {}


def test_the_readme_detection_table_is_this_run(matrix: list[Row]) -> None:
    text = README.read_text(encoding="utf-8")
    table = detection_markdown(matrix, {name: f.breaks for name, f in FAULTS.items()})
    assert replace_block(text, "fault-detection", table) == text, (
        "run: aep-export-contracts check --fault-matrix --markdown --examples 2, and paste it into README.md")
