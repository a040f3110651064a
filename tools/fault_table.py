"""Rewrite the fault detection table in docs/commands/serve.md from a fault-matrix run.

Run from the repository root: python tools/fault_table.py. Each fault of the reference server is
checked once (strict, two examples an operation, seed 0) and its client workflow is sent through the
proxy; the table between the page's fault-detection markers is replaced with what was caught.
tests/test_faults.py fails when the page and a run disagree.
"""

from __future__ import annotations

from pathlib import Path

from aep_export_contracts.check.runner import fault_matrix
from aep_export_contracts.proxy.sample_client import proxy_matrix
from aep_export_contracts.reporting.catalogue import detection_markdown, replace_block
from aep_export_contracts.server import FAULTS

PAGE = Path("docs/commands/serve.md")


def main() -> None:
    faults = sorted(FAULTS)
    rows = fault_matrix(faults, examples=2)
    table = detection_markdown(rows, {name: f.breaks for name, f in FAULTS.items()}, proxy_matrix(faults))
    PAGE.write_text(replace_block(PAGE.read_text(encoding="utf-8"), "fault-detection", table), encoding="utf-8")
    print(f"{PAGE}: {sum(r.detected for r in rows)} of {len(rows)} faults detected")


if __name__ == "__main__":
    main()
