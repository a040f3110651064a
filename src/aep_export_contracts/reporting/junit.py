from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from ..findings import Report


def to_junit(reports: Sequence[Report], suite: str = "aep-export-contracts") -> str:
    """JUnit XML: a test case per report; a failure per failing finding; warnings as system-out."""
    root = ET.Element("testsuites")
    failures = sum(1 for r in reports if not r.valid)
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(reports)), failures=str(failures),
                       errors="0", skipped="0")
    for report in reports:
        case = ET.SubElement(ts, "testcase", classname=report.contract or "unknown",
                             name=report.source or report.contract or "payload")
        failing = report.failing
        if failing:
            failure = ET.SubElement(case, "failure", message=f"{len(failing)} violation(s)",
                                    type=failing[0].rule)
            failure.text = "\n".join(f"{f.rule} {f.pointer or '/'}: {f.message}" for f in failing)
        others = [f for f in report.findings if f not in failing]
        if others:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(f"{f.rule} ({f.severity}) {f.pointer or '/'}: {f.message}" for f in others)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
