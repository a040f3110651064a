"""JSON: lint's array of inputs, and a run's object (violations, warnings, counts)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..findings import Report, RunReport


def to_json(reports: Sequence[Report]) -> str:
    """One JSON array, an object per input: file, contract, valid, findings."""
    return json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False)


def run_to_json(report: RunReport) -> str:
    return report.to_json()
