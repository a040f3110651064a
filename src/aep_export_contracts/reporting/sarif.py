from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..about import __version__
from ..findings import Finding, Policy, Report, RunReport
from ..rules import all_rules

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _result(f: Finding, policy: Policy, index: dict[str, int], location: dict[str, Any],
            properties: dict[str, Any]) -> dict[str, Any]:
    text = f.message + (f" ({f.hint})" if f.hint else "")
    return {"ruleId": f.rule, "ruleIndex": index.get(f.rule, -1), "level": "error" if policy.fails(f) else "warning",
            "message": {"text": f"{f.pointer or '/'}: {text}"}, "locations": [location],
            "properties": {"pointer": f.pointer, **properties}}


def to_sarif(reports: Sequence[Report]) -> str:
    """SARIF 2.1.0 of linted files: one run, the rule catalogue as the driver's rules, a result per finding."""
    index = _index()
    results: list[dict[str, Any]] = []
    for report in reports:
        for f in report.findings:
            location: dict[str, Any] = {
                "logicalLocations": [{"fullyQualifiedName": f.pointer or "/", "kind": "object"}],
            }
            if report.source:
                location["physicalLocation"] = {"artifactLocation": {"uri": report.source}}
            results.append(_result(f, report.policy, index, location, {"contract": report.contract}))
    return _document(results)


def run_to_sarif(report: RunReport) -> str:
    """SARIF 2.1.0 of a run (check, replay): a result per finding, located at its check and pointer."""
    index = _index()
    results = [_result(f, report.policy, index,
                       {"logicalLocations": [{"fullyQualifiedName": f"{r.name}{f.pointer or '/'}", "kind": "object"}]},
                       {"layer": r.layer, "check": r.name, "operation": r.operation})
               for r in report.results for f in r.findings]
    return _document(results)


def _index() -> dict[str, int]:
    return {r.id: i for i, r in enumerate(all_rules())}


def _document(results: list[dict[str, Any]]) -> str:
    rules = all_rules()
    driver = {
        "name": "aep-export-contracts",
        "version": __version__,
        "informationUri": "https://aep-export-contracts.invalid/",
        "rules": [
            {
                "id": r.id,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.description},
                "defaultConfiguration": {"level": str(r.severity)},
            }
            for r in rules
        ],
    }
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}
    return json.dumps(doc, indent=2, ensure_ascii=False)
