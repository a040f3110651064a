"""JUnit XML of a run, grouped as the text report is: a failing test case per problem (one cause:
rule, operation, pointer pattern), a passing one per check that found nothing, and the findings on
data already on the target as skipped cases. Its failure count is the text report's problem count."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from ..findings import CLIENT, SERVER, Group, RunReport, group

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
    existing = group(report.on_existing())
    failing = {id(r) for r, _ in report.failing()}
    root = ET.Element("testsuites", name="aep-export-contracts", failures=str(len(groups)))
    total = 0
    for layer in sorted({r.layer for r in report.results}):
        passed = [r for r in report.results if r.layer == layer and id(r) not in failing and not r.existing]
        suite = ET.SubElement(root, "testsuite", name=f"aep-export-contracts check: {layer}", tests=str(len(passed)),
                              failures="0", errors="0", skipped="0")
        for r in passed:
            case = ET.SubElement(suite, "testcase", classname=f"{layer}.{r.operation}", name=r.name)
            warnings = [f for f in r.findings if not report.policy.fails(f)]
            if warnings:
                ET.SubElement(case, "system-out").text = "\n".join(
                    f"{f.rule} ({f.severity}) {f.pointer or '/'}: {f.message}" for f in warnings)
        total += len(passed)
    for title, found, kind in (("problems", groups, "failure"), ("data already on the target", existing, "skipped")):
        if not found:
            continue
        suite = ET.SubElement(root, "testsuite", name=f"aep-export-contracts check: {title}", tests=str(len(found)),
                              failures=str(len(found) if kind == "failure" else 0), errors="0",
                              skipped=str(len(found) if kind == "skipped" else 0))
        for g in found:
            case = ET.SubElement(suite, "testcase", classname=g.operation, name=f"{g.key} [{g.side}]" if g.side else g.key)
            element = ET.SubElement(case, kind, message=f"{g.rule} ×{g.count}: {g.message}"[:500])
            if kind == "failure":
                element.set("type", g.rule)
            element.text = _detail(g)
        total += len(found)
    root.set("tests", str(total))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
