"""JUnit XML of a run: a test suite per layer, a test case per check, a failure per failing check."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from ..findings import RunReport


def to_junit(report: RunReport) -> str:
    root = ET.Element("testsuites")
    for layer in sorted({r.layer for r in report.results}):
        results = [r for r in report.results if r.layer == layer]
        failed = [r for r in results if any(report.policy.fails(f) for f in r.findings)]
        suite = ET.SubElement(root, "testsuite", name=f"aep-export-contracts check: {layer}",
                              tests=str(len(results)), failures=str(len(failed)), errors="0", skipped="0")
        for r in results:
            case = ET.SubElement(suite, "testcase", classname=f"{layer}.{r.operation}", name=r.name)
            bad = [f for f in r.findings if report.policy.fails(f)]
            if bad:
                failure = ET.SubElement(case, "failure", message=f"{bad[0].rule}: {bad[0].message}", type=bad[0].rule)
                lines = [f"{f.rule} {f.pointer or '/'}: {f.message}" for f in bad]
                if r.reproduction:
                    lines.append(json.dumps(r.reproduction, indent=2))
                failure.text = "\n".join(lines)
            others = [f for f in r.findings if not report.policy.fails(f)]
            if others:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(f"{f.rule} ({f.severity}) {f.pointer or '/'}: {f.message}" for f in others)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
