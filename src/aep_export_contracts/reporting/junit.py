"""JUnit XML of a run: a test case per check, in a suite per layer, so that its counts are the JSON
report's (``checks``, ``failed_checks``). A check whose findings fail the run is a failing case whose
message names its causes, grouped as the text report groups them (rule, operation, pointer pattern),
with each cause's detail; a check whose findings are about data already on the target is skipped."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from ..about import NAME
from ..findings import CLIENT, SERVER, Group, RunReport, fold_pointer

SAID = {CLIENT: "the request breaks the contract", SERVER: "the answer breaks the contract"}


def _detail(g: Group) -> str:
    lines = [f"{g.count} violation(s) of {g.rule} at {g.pointer or '/'} in {g.operation}", f"first: {g.message}"]
    if g.side is not None:
        lines.insert(1, f"side: {g.side} ({SAID[g.side]})")
    if g.consequences:
        lines.append(f"and {g.consequences} finding(s) on the jobs it let through")
    if g.hint:
        lines.append(f"fix: {g.hint}")
    if g.subjects:
        lines.append("jobs: " + ", ".join(g.subjects))
    lines.append("checks: " + "; ".join(g.checks))
    if g.reproduction:
        lines.append(json.dumps(g.reproduction, indent=2))
    return "\n".join(lines)


def to_junit(report: RunReport) -> str:
    groups = report.groups()
    cause = {(g.rule, g.operation, g.pointer): g for g in groups}
    first_of: dict[tuple[str, str], Group] = {}  # what a consequence follows from: a rule's first cause there
    for each in groups:
        first_of.setdefault((each.rule, each.operation), each)
    failing = {id(r) for r, _ in report.failing()}
    existing = {id(r) for r, _ in report.on_existing()}
    stamp = datetime.fromtimestamp(report.started, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    host = socket.gethostname()
    seconds = f"{max(0.0, time.time() - report.started):.3f}"
    root = ET.Element("testsuites", name=NAME, tests=str(len(report.results)),
                      failures=str(len(failing)), errors="0", skipped=str(len(existing)), time=seconds)
    for layer in sorted({r.layer for r in report.results}):
        mine = [r for r in report.results if r.layer == layer]
        suite = ET.SubElement(root, "testsuite", name=f"{NAME} {layer}", tests=str(len(mine)),
                              failures=str(sum(id(r) in failing for r in mine)), errors="0",
                              skipped=str(sum(id(r) in existing for r in mine)), timestamp=stamp, hostname=host)
        for r in mine:
            case = ET.SubElement(suite, "testcase", classname=f"{layer}.{r.operation}", name=r.name)
            fails = [f for f in r.findings if report.policy.fails(f)]
            if id(r) in failing or id(r) in existing:
                kind = "failure" if id(r) in failing else "skipped"
                causes: list[Group] = []
                for f in fails:
                    found = cause.get((f.rule, r.operation, fold_pointer(f.pointer))) or \
                        (first_of.get(r.caused_by) if r.caused_by else None)
                    if found is not None and found not in causes:
                        causes.append(found)
                first = fails[0]
                message = "; ".join(f"{g.rule} ×{g.count}: {g.message}" for g in causes) or \
                    f"{first.rule}: {first.message}"
                element = ET.SubElement(case, kind, message=message[:500])
                if kind == "failure":
                    element.set("type", ",".join(sorted({f.rule for f in fails})))
                element.text = "\n\n".join(_detail(g) for g in causes) or "\n".join(
                    f"{f.rule} {f.pointer or '/'}: {f.message}" for f in fails)
            warnings = [f for f in r.findings if not report.policy.fails(f)]
            if warnings:
                ET.SubElement(case, "system-out").text = "\n".join(
                    f"{f.rule} ({f.severity}) {f.pointer or '/'}: {f.message}" for f in warnings)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
