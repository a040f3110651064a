from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..findings import Report


def render_text(reports: Sequence[Report], console: Console, *, detected: set[str] | None = None) -> None:
    """Readable at a glance: a heading per input, a row per finding, one summary line."""
    detected = detected or set()
    failed = 0
    for report in reports:
        name = report.source or "<payload>"
        how = " (detected)" if report.source in detected else ""
        status = Text("ok", style="bold green") if report.valid else Text("FAIL", style="bold red")
        if not report.valid:
            failed += 1
        heading = Text.assemble(status, "  ", (name, "bold"), f"  contract: {report.contract or '?'}{how}")
        console.print(heading)
        if report.findings:
            table = Table(show_header=False, box=None, padding=(0, 1), pad_edge=False)
            for _ in range(4):
                table.add_column(overflow="fold")
            for f in report.findings:
                style = "red" if report.policy.fails(f) else "yellow"
                body = Text(f.message)
                if f.hint:
                    body.append(f"\n→ {f.hint}", style="dim")
                table.add_row(Text(str(f.severity), style=style), Text(f.rule, style="bold"),
                              Text(f.pointer or "/", style="cyan"), body)
            console.print(table)
    findings = sum(len(r.findings) for r in reports)
    summary = f"{len(reports)} input(s), {failed} failing, {findings} finding(s)"
    console.print(Text(summary, style="bold red" if failed else "bold green"))
