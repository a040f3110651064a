from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..findings import Report
from ..rules import all_rules

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def to_sarif(reports: Sequence[Report]) -> str:
    """SARIF 2.1.0: one run, the rule catalogue as the driver's rules, a result per finding."""
    rules = all_rules()
    index = {r.id: i for i, r in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for report in reports:
        for f in report.findings:
            location: dict[str, Any] = {
                "logicalLocations": [{"fullyQualifiedName": f.pointer or "/", "kind": "object"}],
            }
            if report.source:
                location["physicalLocation"] = {"artifactLocation": {"uri": report.source}}
            text = f.message + (f" ({f.hint})" if f.hint else "")
            results.append({
                "ruleId": f.rule,
                "ruleIndex": index.get(f.rule, -1),
                "level": "error" if report.policy.fails(f) else "warning",
                "message": {"text": f"{f.pointer or '/'}: {text}"},
                "locations": [location],
                "properties": {"pointer": f.pointer, "contract": report.contract},
            })
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
