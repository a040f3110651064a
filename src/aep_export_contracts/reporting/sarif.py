"""SARIF 2.1.0 of a lint or a run, in the form code-scanning services take: every result has a physical
location whose URI is relative to a declared base (``SRCROOT``: the folder the command ran in; ``CONTRACT``:
the folder of the bundled description, for a finding about an answer or a request, which lives in no file
of the user's), every rule carries its help, and every result a fingerprint of its cause (stable across
runs: rule, operation or file, pointer pattern)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..about import NAME, __version__
from ..engine.yamlload import compose_yaml
from ..findings import Finding, Policy, Report, RunReport, fold_pointer, overlay_in_use
from ..rules import all_rules
from ..spec.api import operation
from ..spec.contracts import data_root, escape

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: where the rule catalogue is published (a rule's helpUri)
HOME_URI = f"https://{NAME}.invalid/"  # where the project's documentation is published
CATALOGUE_URI = f"{HOME_URI}rules/"
DESCRIPTION = Path("openapi") / "export-jobs.yaml"  # below data_root(): the API description findings point into


def _result(f: Finding, policy: Policy, index: dict[str, int], location: dict[str, Any],
            properties: dict[str, Any], cause: str) -> dict[str, Any]:
    text = f.message + (f" ({f.hint})" if f.hint else "")
    fingerprint = hashlib.sha256(f"{f.rule}|{cause}|{fold_pointer(f.pointer)}".encode()).hexdigest()[:32]
    return {"ruleId": f.rule, "ruleIndex": index.get(f.rule, -1), "level": "error" if policy.fails(f) else "warning",
            "message": {"text": f"{f.pointer or '/'}: {text}"}, "locations": [location],
            "partialFingerprints": {"aecCause/v1": fingerprint},
            "properties": {"pointer": f.pointer, **({"side": f.side} if f.side else {}), **properties}}


def _artifact(path: str) -> dict[str, Any]:
    """A file as SARIF locates it: relative to SRCROOT (the working folder) when below it, else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(Path.cwd())
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": "SRCROOT"}


def _bases() -> dict[str, Any]:
    return {"SRCROOT": {"uri": Path.cwd().as_uri() + "/"}, "CONTRACT": {"uri": data_root().as_uri() + "/"}}


@cache
def _operation_line(operation_id: str) -> int | None:
    """The line of an operation in the bundled description."""
    try:
        op = operation(operation_id)
    except KeyError:
        return None
    locate = _locator(str(data_root() / DESCRIPTION))
    region = locate(f"/paths/{escape(op.template)}/{op.method.lower()}") if locate else None
    return region["startLine"] if region else None


def _in_description(operation_id: str) -> dict[str, Any]:
    """A finding about an exchange, located at its operation in the API description (the start of the file
    when it names no operation)."""
    return {"artifactLocation": {"uri": DESCRIPTION.as_posix(), "uriBaseId": "CONTRACT"},
            "region": {"startLine": _operation_line(operation_id) or 1}}


def to_sarif(reports: Sequence[Report]) -> str:
    """SARIF 2.1.0 of linted files: one run, the rule catalogue as the driver's rules, a result per finding."""
    index = _index()
    results: list[dict[str, Any]] = []
    for report in reports:
        locate = _locator(report.source) if report.source and report.findings else None
        artifact = _artifact(report.source) if report.source and report.findings else None
        for f in report.findings:
            location: dict[str, Any] = {
                "logicalLocations": [{"fullyQualifiedName": f.pointer or "/", "kind": "object"}],
            }
            if artifact is not None:
                physical: dict[str, Any] = {"artifactLocation": artifact}
                region = locate(f.pointer) if locate else None
                physical["region"] = region or {"startLine": 1}
                location["physicalLocation"] = physical
            results.append(_result(f, report.policy, index, location, {"contract": report.contract},
                                   report.source or report.contract or ""))
    return _document(results)


def run_to_sarif(report: RunReport) -> str:
    """SARIF 2.1.0 of a run (check, replay): a result per finding, located at its check and pointer."""
    index = _index()
    locators: dict[str, Callable[[str], dict[str, int] | None] | None] = {}

    def physical(r: Any) -> dict[str, Any]:
        """A recorded exchange's finding at the exchange in its recording; any other at its operation."""
        if r.recording is None:
            return _in_description(r.operation)
        path, pointer = r.recording
        if path not in locators:
            locators[path] = _locator(path)
        locate = locators[path]
        return {"artifactLocation": _artifact(path),
                "region": (locate(pointer) if locate else None) or {"startLine": 1}}

    results = []
    for r in report.results:
        if not r.findings:
            continue
        where = physical(r)  # one place per check, whatever it found there
        results += [_result(f, report.policy, index,
                            {"physicalLocation": where,
                             "logicalLocations": [{"fullyQualifiedName": f"{r.name}{f.pointer or '/'}",
                                                   "kind": "object"}]},
                            {"layer": r.layer, "check": r.name, "operation": r.operation}, r.operation)
                    for f in r.findings]
    return _document(results)


def _index() -> dict[str, int]:
    return {r.id: i for i, r in enumerate(all_rules())}


def _document(results: list[dict[str, Any]]) -> str:
    rules = all_rules()
    driver = {
        "name": NAME,
        "version": __version__,
        "informationUri": HOME_URI,
        "rules": [
            {
                "id": r.id,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.description},
                "defaultConfiguration": {"level": str(r.severity)},
                "help": {"text": f"{r.summary} {r.description}",
                         "markdown": f"**{r.id} {r.name}** ({r.severity})\n\n{r.description}\n\n"
                                     f"[The rule catalogue]({CATALOGUE_URI})"},
                "helpUri": CATALOGUE_URI,
            }
            for r in rules
        ],
    }
    run = {"tool": {"driver": driver}, "originalUriBaseIds": _bases(), "results": results}
    overlay = overlay_in_use()
    if overlay is not None:  # the contract the results were judged against: the bundled one with this overlay
        run["properties"] = {"overlay": overlay}
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
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
