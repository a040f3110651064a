"""What a check run found: results per layer, operation and rule, with reproductions."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from ..findings import Finding, Policy
from ..http import Exchange
from ..spec.api import HEADERS
from .safety import mask

SECRET_HEADERS = HEADERS.secret


@dataclass
class Result:
    layer: str
    name: str
    operation: str
    findings: list[Finding] = field(default_factory=list)
    reproduction: dict[str, Any] | None = None


@dataclass
class CheckReport:
    target: str
    seed: int
    policy: Policy
    secrets: list[str]
    results: list[Result] = field(default_factory=list)
    unstable: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    exchanges: int = 0
    methods: Counter[str] = field(default_factory=Counter)

    def add(self, layer: str, name: str, operation: str, findings: list[Finding] | None = None,
            exchange: Exchange | None = None) -> Result:
        kept = [f for f in findings or [] if self.policy.reports(f)]
        result = Result(layer, name, operation, kept, self.reproduce(exchange) if exchange and kept else None)
        self.results.append(result)
        return result

    def reproduce(self, exchange: Exchange) -> dict[str, Any]:
        headers = {k: ("***" if k in SECRET_HEADERS else mask(v, self.secrets)) for k, v in exchange.request_headers.items()}
        body = exchange.request_body
        if isinstance(body, bytes | bytearray):
            body = body.decode("utf-8", "replace")
        text = None if body is None else mask(body if isinstance(body, str) else json.dumps(body), self.secrets)
        if text is not None and len(text) > 4000:
            text = text[:4000] + "…"
        return {"method": exchange.method, "url": mask(exchange.url, self.secrets), "headers": headers,
                "body": text, "status": exchange.status}

    def failing(self) -> list[tuple[Result, Finding]]:
        return [(r, f) for r in self.results for f in r.findings if self.policy.fails(f)]

    @property
    def ok(self) -> bool:
        return not self.failing()

    def by_rule(self) -> Counter[str]:
        return Counter(f.rule for _, f in self.failing())

    def by_operation(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for r in self.results:
            checked, failed = out.get(r.operation, (0, 0))
            bad = any(self.policy.fails(f) for f in r.findings)
            out[r.operation] = (checked + 1, failed + int(bad))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "seed": self.seed,
            "ok": self.ok,
            "exchanges": self.exchanges,
            "methods": dict(sorted(self.methods.items())),
            "checks": len(self.results),
            "violations": [
                {"layer": r.layer, "check": r.name, "operation": r.operation, **f.to_dict(),
                 "reproduction": r.reproduction}
                for r, f in self.failing()
            ],
            "warnings": [
                {"layer": r.layer, "check": r.name, "operation": r.operation, **f.to_dict()}
                for r in self.results for f in r.findings if not self.policy.fails(f)
            ],
            "by_rule": dict(sorted(self.by_rule().items())),
            "unstable": self.unstable,
            "errors": self.errors,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_junit(self) -> str:
        root = ET.Element("testsuites")
        layers = sorted({r.layer for r in self.results})
        for layer in layers:
            results = [r for r in self.results if r.layer == layer]
            failed = [r for r in results if any(self.policy.fails(f) for f in r.findings)]
            suite = ET.SubElement(root, "testsuite", name=f"aep-export-contracts check: {layer}",
                                  tests=str(len(results)), failures=str(len(failed)), errors="0", skipped="0")
            for r in results:
                case = ET.SubElement(suite, "testcase", classname=f"{layer}.{r.operation}", name=r.name)
                bad = [f for f in r.findings if self.policy.fails(f)]
                if bad:
                    failure = ET.SubElement(case, "failure", message=f"{bad[0].rule}: {bad[0].message}", type=bad[0].rule)
                    lines = [f"{f.rule} {f.pointer or '/'}: {f.message}" for f in bad]
                    if r.reproduction:
                        lines.append(json.dumps(r.reproduction, indent=2))
                    failure.text = "\n".join(lines)
        ET.indent(root)
        return ET.tostring(root, encoding="unicode", xml_declaration=True)
