from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..about import __version__
from ..engine.yamlload import compose_yaml
from ..findings import Finding, Policy, Report, RunReport
from ..rules import all_rules

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _result(f: Finding, policy: Policy, index: dict[str, int], location: dict[str, Any],
            properties: dict[str, Any]) -> dict[str, Any]:
    text = f.message + (f" ({f.hint})" if f.hint else "")
    return {"ruleId": f.rule, "ruleIndex": index.get(f.rule, -1), "level": "error" if policy.fails(f) else "warning",
            "message": {"text": f"{f.pointer or '/'}: {text}"}, "locations": [location],
            "properties": {"pointer": f.pointer, **({"side": f.side} if f.side else {}), **properties}}


def to_sarif(reports: Sequence[Report]) -> str:
    """SARIF 2.1.0 of linted files: one run, the rule catalogue as the driver's rules, a result per finding."""
    index = _index()
    results: list[dict[str, Any]] = []
    for report in reports:
        locate = _locator(report.source) if report.source and report.findings else None
        for f in report.findings:
            location: dict[str, Any] = {
                "logicalLocations": [{"fullyQualifiedName": f.pointer or "/", "kind": "object"}],
            }
            if report.source:
                physical: dict[str, Any] = {"artifactLocation": {"uri": report.source}}
                region = locate(f.pointer) if locate else None
                if region:
                    physical["region"] = region
                location["physicalLocation"] = physical
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


#: files larger than this are not read again for line numbers (composing them would cost seconds)
_LOCATE_AT_MOST = 5 << 20


def _locator(source: str) -> Callable[[str], dict[str, int] | None] | None:
    """Where each pointer lands in a JSON or YAML file: its line and column (1-based), for code-scanning
    views. The file is composed into YAML nodes (JSON is YAML to that composer), which keep their marks;
    a pointer to a missing key lands on the nearest node that exists. None when the file cannot be read."""
    path = Path(source)
    try:
        if not path.is_file() or path.stat().st_size > _LOCATE_AT_MOST:
            return None
        root = compose_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return None
    if root is None:
        return None

    def locate(pointer: str) -> dict[str, int] | None:
        node = root
        for token in pointer.split("/")[1:] if pointer else []:
            key = token.replace("~1", "/").replace("~0", "~")
            found = None
            if isinstance(node, MappingNode):
                found = next((value for k, value in node.value if isinstance(k, ScalarNode) and k.value == key), None)
            elif isinstance(node, SequenceNode) and key.isdigit() and int(key) < len(node.value):
                found = node.value[int(key)]
            if found is None:
                break
            node = found
        mark = node.start_mark
        return {"startLine": mark.line + 1, "startColumn": mark.column + 1}

    return locate
